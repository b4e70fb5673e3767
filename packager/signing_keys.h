// Keys and signature files for ferry-pack: loading the secret key (asking for its password when
// it is encrypted) and writing a package's .minisig next to it.
#pragma once

#include <string>

#include "ferry/manifest.h"
#include "ferry/minisign.h"
#include "ferry/package_signature.h"

namespace ferry::pack {

minisign::SecretKey load_secret_key(const std::string& path);

// "hello.ferry" -> "hello.ferry.minisig", where minisign looks for it.
std::string signature_path_for(const std::string& package_path);

// Signs the package and writes its .minisig atomically; returns the signature's path.
std::string write_package_signature(const minisign::SecretKey& key, const std::string& package_path,
                                    const FileDigest& digest, const Manifest& manifest);

}  // namespace ferry::pack
