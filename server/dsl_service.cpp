#include "dsl_service.h"

#include <algorithm>

#include "ferry/encoding.h"
#include "ferry/error.h"
#include "ferry/manifest.h"
#include "ferry/minisign.h"
#include "ferry/package_reader.h"
#include "ferry/package_signature.h"

namespace ferry::server {
namespace {

bool valid_pattern(const std::string& pattern) {
    if (pattern == "*") return true;
    const std::string stem =
        !pattern.empty() && pattern.back() == '*' ? pattern.substr(0, pattern.size() - 1) : pattern;
    return !stem.empty() && is_valid_package_name(stem);
}

}  // namespace

PublisherKey DslService::add_publisher(const Principal& actor, const std::string& name,
                                       const std::string& public_key,
                                       const std::vector<std::string>& packages) {
    UserService::require(actor, Permission::ManagePublishers, "trust publisher keys");
    if (name.empty() || name.size() > 128)
        throw Error(ErrorCode::InvalidInput, "field \"name\": must be 1-128 characters");
    const minisign::PublicKey key = minisign::PublicKey::parse(public_key, "field \"key\"");
    if (packages.empty())
        throw Error(ErrorCode::InvalidInput,
                    "field \"packages\": name at least one package pattern");
    for (const auto& p : packages) {
        if (!valid_pattern(p)) {
            throw Error(ErrorCode::InvalidInput,
                        "field \"packages\": \"" + p +
                            "\" is not a package name, a prefix ending in '*', or '*'");
        }
    }
    PublisherKey publisher{name, key.to_base64(), packages};
    const std::int64_t now = clock_();
    std::string scope;
    for (const auto& p : packages) scope += (scope.empty() ? "" : ",") + p;
    store_.add_publisher(publisher, now,
                         ChangeLogEntry{now, actor.name, "publisher.add", name, "",
                                        "key " + key.key_id_hex() + " for " + scope});
    return publisher;
}

std::vector<StoredPublisher> DslService::publishers(const Principal& actor) {
    UserService::require(actor, Permission::ReadSite, "read publishers");
    return store_.publishers();
}

PackageVersion DslService::register_package(const Principal& actor, const std::string& object_id,
                                            const std::string& signature_text) {
    UserService::require(actor, Permission::UploadObjects, "register packages");
    if (!is_object_id(object_id))
        throw Error(ErrorCode::InvalidInput,
                    "field \"object_id\": must be 64 lowercase hex digits");
    if (!objects_.exists(object_id)) {
        throw Error(ErrorCode::NotFound,
                    "object " + object_id +
                        " is not in the library; upload it first (PUT /api/v1/objects/ID)");
    }
    const minisign::Signature signature =
        minisign::Signature::parse(signature_text, "field \"signature\"");

    // The signer: a trusted publisher with the key id the signature names.
    const auto trusted = store_.publishers();
    const auto signer = std::find_if(trusted.begin(), trusted.end(), [&](const StoredPublisher& p) {
        return minisign::PublicKey::parse(p.key.public_key, "publisher " + p.key.name).key_id ==
               signature.key_id;
    });
    if (signer == trusted.end()) {
        minisign::PublicKey named;
        named.key_id = signature.key_id;
        throw Error(ErrorCode::VerificationFailed,
                    "unknown signer: key " + named.key_id_hex() + " is not a trusted publisher");
    }
    const minisign::PublicKey key =
        minisign::PublicKey::parse(signer->key.public_key, "publisher " + signer->key.name);

    // Signature over the stored bytes first, then the scope, then every entry of the content.
    const std::string path = objects_.path(object_id);
    const FileDigest digest = digest_file(path);
    const PackageClaims claims = verify_signed_digest(key, signature, digest);
    if (!publisher_may_sign(signer->key, claims.name)) {
        throw Error(ErrorCode::VerificationFailed, "publisher " + signer->key.name +
                                                       " may not sign package " + claims.name +
                                                       " (outside its scope)");
    }
    PackageReader reader(path, {}, object_id);
    const Manifest manifest = verify_package_contents(reader);
    check_claims_match(claims, manifest);

    PackageVersion version;
    version.name = manifest.name;
    version.version = manifest.version;
    version.object_id = object_id;
    version.size = digest.size;
    version.signature = signature_text;
    version.publisher = signer->key.name;
    version.manifest_json = reader.manifest_json();
    version.registered_by = actor.name;
    version.registered_at = clock_();
    store_.add_version(version, signer->id,
                       ChangeLogEntry{version.registered_at, actor.name, "package.register",
                                      manifest.name + "@" + manifest.version, "",
                                      "object " + object_id + ", signed by " + signer->key.name});
    return version;
}

std::vector<PackageVersion> DslService::versions(const Principal& actor,
                                                 const std::optional<std::string>& name) {
    UserService::require(actor, Permission::ReadSite, "read the library");
    return store_.versions(name);
}

PackageVersion DslService::retire(const Principal& actor, const std::string& name,
                                  const std::string& version) {
    UserService::require(actor, Permission::RetirePackages, "retire package versions");
    const auto all = store_.versions(name);
    const auto found = std::find_if(all.begin(), all.end(),
                                    [&](const PackageVersion& v) { return v.version == version; });
    if (found == all.end())
        throw Error(ErrorCode::NotFound, "no " + name + " " + version + " in the library");
    if (found->retired_at)
        throw Error(ErrorCode::Conflict, name + " " + version + " is already retired");
    const std::int64_t now = clock_();
    if (!store_.retire(name, version, now,
                       ChangeLogEntry{now, actor.name, "package.retire", name + "@" + version,
                                      "active", "retired"})) {
        throw Error(ErrorCode::Conflict, name + " " + version + " was retired meanwhile");
    }
    PackageVersion retired = *found;
    retired.retired_at = now;
    return retired;
}

DslService::Collection DslService::collect_garbage(const Principal& actor, bool dry_run) {
    UserService::require(actor, Permission::CollectObjects, "collect unreferenced objects");
    constexpr std::int64_t kOrphanGraceSeconds = 86400;  // an upload may be registered later
    Collection found;
    std::vector<std::string> retired;
    for (const auto& [id, size] : store_.collectable_objects()) {
        retired.push_back(id);
        found.objects.push_back(id);
        found.bytes += objects_.exists(id) ? objects_.size(id) : 0;
    }
    for (const auto& id : objects_.list()) {
        if (!store_.is_registered(id) && objects_.age_seconds(id) > kOrphanGraceSeconds) {
            found.objects.push_back(id);
            found.bytes += objects_.size(id);
        }
    }
    if (dry_run || found.objects.empty()) return found;
    // Files first: a crash between leaves rows to mark next time, never a marked row whose
    // object still takes space unnoticed.
    for (const auto& id : found.objects) objects_.remove(id);
    std::string what = std::to_string(found.objects.size()) + " object(s), " +
                       std::to_string(found.bytes) + " bytes:";
    for (const auto& id : found.objects) what += " " + id.substr(0, 16);
    store_.mark_collected(retired, clock_(),
                          ChangeLogEntry{clock_(), actor.name, "dsl.collect", "objects", "", what});
    return found;
}

}  // namespace ferry::server
