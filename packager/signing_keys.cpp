#include "signing_keys.h"

#include "ferry/atomic_file.h"
#include "password_prompt.h"

namespace ferry::pack {

minisign::SecretKey load_secret_key(const std::string& path) {
    return minisign::SecretKey::load(
        path, [&path] { return read_password("Password for " + path + ": "); });
}

std::string signature_path_for(const std::string& package_path) {
    return package_path + ".minisig";
}

std::string write_package_signature(const minisign::SecretKey& key, const std::string& package_path,
                                    const FileDigest& digest, const Manifest& manifest) {
    const auto slash = package_path.find_last_of('/');
    const std::string file_name =
        slash == std::string::npos ? package_path : package_path.substr(slash + 1);
    const minisign::Signature signature = sign_package(key, digest, manifest, file_name);
    const std::string path = signature_path_for(package_path);
    write_file_atomically(path, signature.to_file_text(), 0644);
    return path;
}

}  // namespace ferry::pack
