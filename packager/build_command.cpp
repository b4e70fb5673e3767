#include <iostream>
#include <optional>

#include "commands.h"
#include "ferry/command_line.h"
#include "ferry/error.h"
#include "ferry/package_signature.h"
#include "ferry/package_writer.h"
#include "progress_line.h"
#include "signing_keys.h"

namespace ferry::pack {

int run_build(int argc, char** argv, int first) {
    const CommandLine args(argc, argv, first,
                           {{"--output", "-o", true}, {"--key", "-k", true}, {"--level", "", true}},
                           1);
    if (args.help()) return print_help("build");
    const std::string src = args.positional()[0];
    const std::string out = args.required("--output");
    BuildOptions options;
    if (const auto level = args.value("--level")) {
        try {
            std::size_t used = 0;
            options.compression_level = std::stoi(*level, &used);
            if (used != level->size()) throw std::invalid_argument("trailing");
        } catch (const std::exception&) {
            throw UsageError("--level must be a number from 1 to 19");
        }
    }
    // Load (and decrypt) the key first: a wrong password should not cost a whole build.
    std::optional<minisign::SecretKey> key;
    if (const auto key_path = args.value("--key")) key.emplace(load_secret_key(*key_path));

    BuildResult result;
    {
        ProgressLine progress("building " + out);
        result = build_package(src, out, options, progress.callback());
    }
    if (key) {
        FileDigest digest;
        digest.object_id = result.object_id;
        digest.size = result.size;
        digest.prehash = result.prehash;
        const std::string sig = write_package_signature(*key, out, digest, result.manifest);
        std::cerr << "signed " << out << " -> " << sig << " (key " << key->public_key().key_id_hex()
                  << ")\n";
    }
    std::cerr << "built " << result.manifest.name << " " << result.manifest.version << ": " << out
              << ", " << result.size << " bytes, " << result.manifest.files.size() << " entries\n";
    std::cout << result.object_id << "\n";
    return 0;
}

}  // namespace ferry::pack
