#include "package_check.h"

#include "ferry/error.h"
#include "ferry/package_reader.h"
#include "ferry/package_signature.h"

namespace ferry::agent {

namespace {

[[noreturn]] void refuse(const std::string& what) {
    throw Error(ErrorCode::VerificationFailed, what);
}

Manifest manifest_of(const std::string& object_path, const std::string& object_id,
                     const std::string& package, const std::string& version) {
    PackageReader reader(object_path, {}, object_id);
    const Manifest manifest = reader.manifest();
    if (manifest.name != package || manifest.version != version)
        refuse("object " + object_id + " holds " + manifest.name + " " + manifest.version +
               ", not " + package + " " + version);
    return manifest;
}

}  // namespace

Manifest check_package(const Policy& policy, const PolicyAdvertisement& ad,
                       const std::string& object_path) {
    const FileDigest digest = digest_file(object_path);
    if (digest.object_id != ad.object_id)
        refuse("object for " + ad.package + " " + ad.version + " hashes to " + digest.object_id +
               ", the policy names " + ad.object_id);
    if (digest.size != ad.size)
        refuse("object " + ad.object_id + " is " + std::to_string(digest.size) +
               " bytes, the policy says " + std::to_string(ad.size));
    const auto signature =
        minisign::Signature::parse(ad.signature, "signature of " + ad.package + " " + ad.version);
    const auto key = publisher_key_for(policy, ad.package, signature);
    const PackageClaims claims = verify_signed_digest(key, signature, digest);
    if (claims.name != ad.package || claims.version != ad.version)
        refuse("the signature is for " + claims.name + " " + claims.version +
               ", the policy names " + ad.package + " " + ad.version);
    return manifest_of(object_path, ad.object_id, ad.package, ad.version);
}

Manifest check_cached_package(const std::string& object_path, const std::string& object_id,
                              const std::string& package, const std::string& version) {
    const FileDigest digest = digest_file(object_path);
    if (digest.object_id != object_id)
        refuse("the cached object of " + package + " " + version +
               " no longer matches: it hashes to " + digest.object_id + ", not " + object_id);
    return manifest_of(object_path, object_id, package, version);
}

}  // namespace ferry::agent
