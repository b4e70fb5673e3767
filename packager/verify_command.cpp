#include <iostream>

#include "commands.h"
#include "ferry/command_line.h"
#include "ferry/error.h"
#include "ferry/minisign.h"
#include "ferry/package_reader.h"
#include "ferry/package_signature.h"
#include "progress_line.h"
#include "signing_keys.h"

namespace ferry::pack {

int run_verify(int argc, char** argv, int first) {
    const CommandLine args(argc, argv, first, {{"--pub", "-p", true}, {"--sig", "-x", true}}, 1);
    if (args.help()) return print_help("verify");
    const std::string package = args.positional()[0];
    const auto pub = minisign::PublicKey::load(args.required("--pub"));
    const std::string sig_path = args.value("--sig").value_or(signature_path_for(package));
    // A signature file that does not parse is a signature that does not verify (exit 1); one
    // that is missing or unreadable stays an input error (exit 2).
    const auto signature = [&] {
        try {
            return minisign::Signature::load(sig_path);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::InvalidInput) throw;
            throw Error(ErrorCode::VerificationFailed,
                        std::string("bad signature file: ") + e.what());
        }
    }();

    // Order matters: the signature is checked over the raw bytes before any of them is parsed.
    PackageClaims claims;
    FileDigest digest;
    {
        ProgressLine progress("hashing " + package);
        digest = digest_file(package, progress.callback());
    }
    try {
        claims = verify_signed_digest(pub, signature, digest);
    } catch (const Error& e) {
        throw e.with_context(package);
    }
    Manifest manifest;
    {
        ProgressLine progress("checking " + package);
        // The reader hashes what it reads: if the file changed since it was digested, this fails.
        PackageReader reader(package, {}, digest.object_id);
        try {
            check_claims_match(claims, reader.manifest());
        } catch (const Error& e) {
            throw e.with_context(package);
        }
        manifest = verify_package_contents(reader, progress.callback());
    }
    std::cout << package << ": OK: " << manifest.name << " " << manifest.version << ", object "
              << digest.object_id << ", signed by key " << pub.key_id_hex() << ", "
              << manifest.files.size() << " entries verified\n";
    return 0;
}

}  // namespace ferry::pack
