// DslStore: the Definitive Software Library's records — trusted publishers and registered
// package versions. The objects themselves live in the ObjectStore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ferry/policy.h"
#include "user_store.h"

namespace ferry::server {

struct StoredPublisher {
    std::int64_t id = 0;
    PublisherKey key;  // name, base64 public key, package patterns
};

struct PackageVersion {
    std::string name;
    std::string version;
    std::string object_id;
    std::uint64_t size = 0;
    std::string signature;
    std::string publisher;
    std::string manifest_json;
    std::string registered_by;
    std::int64_t registered_at = 0;
    std::optional<std::int64_t> retired_at;
};

class DslStore {
  public:
    virtual ~DslStore() = default;
    // Error(AlreadyExists) when the name or the key is already trusted.
    virtual void add_publisher(const PublisherKey& key, std::int64_t at,
                               const ChangeLogEntry& entry) = 0;
    virtual std::vector<StoredPublisher> publishers() = 0;
    // Error(AlreadyExists) when that name and version are registered.
    virtual void add_version(const PackageVersion& version, std::int64_t publisher_id,
                             const ChangeLogEntry& entry) = 0;
    virtual std::vector<PackageVersion> versions(const std::optional<std::string>& name) = 0;
    // Marks an active version retired and logs it, together. False when there is no such
    // version or it is already retired.
    virtual bool retire(const std::string& name, const std::string& version, std::int64_t at,
                        const ChangeLogEntry& entry) = 0;
    // Objects whose every version is retired and not yet collected, that no active or halted
    // advertisement and no unfinished release references: object id -> size.
    virtual std::vector<std::pair<std::string, std::uint64_t>> collectable_objects() = 0;
    // True when some package version names the object.
    virtual bool is_registered(const std::string& object_id) = 0;
    // Marks the versions of these objects collected and logs it, together.
    virtual void mark_collected(const std::vector<std::string>& object_ids, std::int64_t at,
                                const ChangeLogEntry& entry) = 0;
};

}  // namespace ferry::server
