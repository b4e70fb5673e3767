// DslService: what may enter the Definitive Software Library. A package version is registered
// only when its object is in the store, its signature verifies against a publisher key the
// admin trusted for that package name, the signature's trusted comment names this object, and
// every entry of the package matches its manifest, whose name and version are the signed ones.
// Knows nothing of HTTP or SQL.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dsl_store.h"
#include "ferry/object_store.h"
#include "user_service.h"

namespace ferry::server {

class DslService {
  public:
    DslService(DslStore& store, const ObjectStore& objects, Clock clock)
        : store_(store), objects_(objects), clock_(std::move(clock)) {}

    // `public_key` is a minisign public key (base64 or .pub text); `packages` are name patterns.
    PublisherKey add_publisher(const Principal& actor, const std::string& name,
                               const std::string& public_key,
                               const std::vector<std::string>& packages);
    std::vector<StoredPublisher> publishers(const Principal& actor);

    PackageVersion register_package(const Principal& actor, const std::string& object_id,
                                    const std::string& signature);
    std::vector<PackageVersion> versions(const Principal& actor,
                                         const std::optional<std::string>& name);
    // A retired version stays in the library (and its object with it) but takes no new
    // advertisements. Error(NotFound) for an unknown version, Error(Conflict) when already retired.
    PackageVersion retire(const Principal& actor, const std::string& name,
                          const std::string& version);

    struct Collection {
        std::vector<std::string> objects;  // removed (or, in a dry run, removable)
        std::uint64_t bytes = 0;
    };
    // Admin only, logged. Removes the objects of retired versions that nothing references any
    // more, and objects uploaded but never registered for more than a day. The versions stay
    // in the library's history, marked collected.
    Collection collect_garbage(const Principal& actor, bool dry_run);

  private:
    DslStore& store_;
    const ObjectStore& objects_;
    Clock clock_;
};

}  // namespace ferry::server
