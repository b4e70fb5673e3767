// Package signatures: minisign "ED" signatures whose trusted comment binds the signature to one
// package name, version and object id.
//
// The trusted comment is tab-separated key:value fields, as minisign's own default is:
//   timestamp:1764000000<TAB>file:hello-1.0.ferry<TAB>package:hello<TAB>version:1.0<TAB>object:<64
//   hex>
// Because the trusted comment is signed, a valid signature for hello 1.0 cannot be replayed for
// another package, version or build. A stock minisign can make such a signature too:
//   minisign -S -s KEY -m FILE -t "$(printf 'package:hello\tversion:1.0\tobject:<id>')"
#pragma once

#include <cstdint>
#include <string>

#include "ferry/manifest.h"
#include "ferry/minisign.h"
#include "ferry/progress.h"

namespace ferry {

// The object id (BLAKE2b-256) and minisign prehash (BLAKE2b-512) of one file, from one read.
struct FileDigest {
    std::string object_id;
    std::uint64_t size = 0;
    minisign::Prehash prehash{};
};

FileDigest digest_file(const std::string& path, const ProgressFn& progress = nullptr);

struct PackageClaims {
    std::string name;
    std::string version;
    std::string object_id;
};

std::string format_trusted_comment(const PackageClaims& claims, std::int64_t timestamp,
                                   const std::string& file_name);

// Reads package, version and object from a trusted comment. Error(VerificationFailed) when any
// is missing or appears twice: a signature that does not say what it signs is not accepted.
PackageClaims parse_trusted_comment(const std::string& comment);

// Signs a package file whose digest and manifest are known.
minisign::Signature sign_package(const minisign::SecretKey& key, const FileDigest& digest,
                                 const Manifest& manifest, const std::string& file_name);

// Verifies the signature over the file's digest and that its trusted comment names this very
// object id; returns the claimed package name and version. Needs nothing from inside the
// file, so it runs before any of the file is parsed. Error(VerificationFailed) on any mismatch.
PackageClaims verify_signed_digest(const minisign::PublicKey& key,
                                   const minisign::Signature& signature, const FileDigest& digest);

// Error(VerificationFailed) unless the claims name the manifest's package and version.
void check_claims_match(const PackageClaims& claims, const Manifest& manifest);

// verify_signed_digest, then check_claims_match.
PackageClaims verify_package_signature(const minisign::PublicKey& key,
                                       const minisign::Signature& signature,
                                       const FileDigest& digest, const Manifest& manifest);

}  // namespace ferry
