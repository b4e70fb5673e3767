#include <sys/stat.h>

#include <iostream>

#include "command_line.h"
#include "commands.h"
#include "ferry/atomic_file.h"
#include "ferry/error.h"
#include "ferry/minisign.h"
#include "password_prompt.h"

namespace ferry::pack {

int run_keygen(int argc, char** argv, int first) {
    const CommandLine args(argc, argv, first,
                           {{"--output", "-o", true}, {"--password", "", false}, {"--force", "-f", false}}, 0);
    if (args.help()) return print_help("keygen");
    const std::string base = args.required("--output");
    const std::string key_path = base + ".key";
    const std::string pub_path = base + ".pub";
    struct stat st {};
    if (!args.flag("--force") && (::stat(key_path.c_str(), &st) == 0 || ::stat(pub_path.c_str(), &st) == 0)) {
        throw Error(ErrorCode::AlreadyExists,
                    key_path + " or " + pub_path + " already exists; use --force to replace the key pair");
    }
    std::optional<std::string> password;
    if (args.flag("--password")) password = read_new_password();

    const auto key = minisign::SecretKey::generate();
    const auto pub = key.public_key();
    // The secret key is 0600 from its first byte: AtomicFile creates it so before writing.
    write_file_atomically(key_path, key.to_file_text(password), 0600);
    write_file_atomically(pub_path, pub.to_file_text(), 0644);
    std::cout << "secret key: " << key_path << (password ? " (encrypted)" : " (not encrypted)") << "\n"
              << "public key: " << pub_path << "\n"
              << "key id:     " << pub.key_id_hex() << "\n"
              << "verify with: minisign -Vm FILE -P " << pub.to_base64() << "\n";
    return 0;
}

}  // namespace ferry::pack
