// extract_bench: the verify-and-extract path of a Ferry package, for tests/bench/bench_pack.sh.
//
//   extract_bench PACKAGE PUBKEY TARGET [SIGNATURE]
//
// Does what an installer does before it runs anything from a package: checks the minisign
// signature (default PACKAGE.minisig) over the raw file bytes and that its trusted comment
// names this object id (digest_file + verify_signed_digest), then extracts the package with
// extract_package, given that object id: it checks every entry against the manifest, hashes
// every file, hashes the raw bytes it reads against the signed id, and syncs the tree before
// renaming it into place. Exit 0 on success, 1 on a verification
// failure, 2 on any other error. Benchmark-only: not installed, not part of ferry-pack.
#include <iostream>
#include <string>

#include "ferry/error.h"
#include "ferry/minisign.h"
#include "ferry/package_signature.h"
#include "ferry/safe_extractor.h"

int main(int argc, char** argv) {
    if (argc < 4 || argc > 5) {
        std::cerr << "usage: extract_bench PACKAGE PUBKEY TARGET [SIGNATURE]\n";
        return 2;
    }
    const std::string package = argv[1];
    const std::string sig_path = argc == 5 ? argv[4] : package + ".minisig";
    try {
        const auto key = ferry::minisign::PublicKey::load(argv[2]);
        const auto signature = ferry::minisign::Signature::load(sig_path);
        // The signature is checked over the raw bytes before any of them is parsed.
        const ferry::FileDigest digest = ferry::digest_file(package);
        const ferry::PackageClaims claims = ferry::verify_signed_digest(key, signature, digest);
        const ferry::ExtractResult result =
            ferry::extract_package(package, argv[3], {}, nullptr, digest.object_id);
        ferry::check_claims_match(claims, result.manifest);
        std::cout << package << ": OK: " << claims.name << " " << claims.version << ", object "
                  << digest.object_id << ", " << result.files << " files, " << result.bytes
                  << " bytes extracted to " << argv[3] << "\n";
        return 0;
    } catch (const ferry::Error& e) {
        std::cerr << "extract_bench: " << e.what() << "\n";
        const auto code = e.code();
        return code == ferry::ErrorCode::VerificationFailed ||
                       code == ferry::ErrorCode::UnsafeArchive ||
                       code == ferry::ErrorCode::LimitExceeded
                   ? 1
                   : 2;
    } catch (const std::exception& e) {
        std::cerr << "extract_bench: " << e.what() << "\n";
        return 2;
    }
}
