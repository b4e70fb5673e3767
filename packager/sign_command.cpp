#include <iostream>

#include "commands.h"
#include "ferry/command_line.h"
#include "ferry/error.h"
#include "ferry/package_reader.h"
#include "ferry/package_signature.h"
#include "progress_line.h"
#include "signing_keys.h"

namespace ferry::pack {

int run_sign(int argc, char** argv, int first) {
    const CommandLine args(argc, argv, first, {{"--key", "-k", true}}, 1);
    if (args.help()) return print_help("sign");
    const std::string package = args.positional()[0];
    const auto key = load_secret_key(args.required("--key"));
    // Never sign what does not verify: the whole content is checked against its manifest first.
    Manifest manifest;
    FileDigest digest;
    {
        ProgressLine progress("checking " + package);
        digest = digest_file(package);
        manifest = verify_package_contents(package, {}, progress.callback());
    }
    // The file must not have changed while it was checked.
    if (digest_file(package).object_id != digest.object_id) {
        throw Error(ErrorCode::VerificationFailed, package + ": changed while it was being signed");
    }
    const std::string sig = write_package_signature(key, package, digest, manifest);
    std::cout << "signed " << manifest.name << " " << manifest.version << " (object "
              << digest.object_id << ") -> " << sig << "\n";
    return 0;
}

}  // namespace ferry::pack
