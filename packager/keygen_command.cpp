#include <sys/stat.h>

#include <iostream>

#include "commands.h"
#include "ferry/atomic_file.h"
#include "ferry/command_line.h"
#include "ferry/error.h"
#include "ferry/minisign.h"
#include "ferry/secure_buffer.h"
#include "password_prompt.h"

namespace ferry::pack {

int run_keygen(int argc, char** argv, int first) {
    const CommandLine args(
        argc, argv, first,
        {{"--output", "-o", true}, {"--password", "", false}, {"--force", "-f", false}}, 0);
    if (args.help()) return print_help("keygen");
    const std::string base = args.required("--output");
    const std::string key_path = base + ".key";
    const std::string pub_path = base + ".pub";
    const bool force = args.flag("--force");
    struct stat st {};
    if (!force && (::lstat(key_path.c_str(), &st) == 0 || ::lstat(pub_path.c_str(), &st) == 0)) {
        throw Error(
            ErrorCode::AlreadyExists,
            key_path + " or " + pub_path + " already exists; use --force to replace the key pair");
    }
    std::optional<std::string> password;
    if (args.flag("--password")) password = read_new_password();

    const auto key = minisign::SecretKey::generate();
    const auto pub = key.public_key();
    std::string key_text = key.to_file_text(password);
    if (password) wipe(*password);
    // The secret key is 0600 from its first byte: AtomicFile creates it so before writing.
    AtomicFile key_file(key_path, 0600);
    key_file.write(key_text);
    wipe(key_text);
    AtomicFile pub_file(pub_path, 0644);
    pub_file.write(pub.to_file_text());
    if (force) {
        key_file.commit();
        pub_file.commit();
    } else if (!key_file.commit_if_absent()) {
        throw Error(ErrorCode::AlreadyExists,
                    key_path + " appeared while the key was made; nothing written");
    } else if (!pub_file.commit_if_absent()) {
        throw Error(ErrorCode::AlreadyExists, pub_path + " appeared while the key was made; " +
                                                  key_path + " was written, " + pub_path +
                                                  " was not");
    }
    std::cout << "secret key: " << key_path << (password ? " (encrypted)" : " (not encrypted)")
              << "\n"
              << "public key: " << pub_path << "\n"
              << "key id:     " << pub.key_id_hex() << "\n"
              << "verify with: minisign -Vm FILE -P " << pub.to_base64() << "\n";
    return 0;
}

}  // namespace ferry::pack
