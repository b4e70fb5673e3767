// ferry-pack: author, build, sign and check Ferry packages.
//
// main only dispatches to a subcommand and maps what it throws to an exit code:
// 0 success, 1 a verification failure, 2 a usage or input error.
#include <cstring>
#include <iostream>

#include "commands.h"
#include "ferry/command_line.h"
#include "ferry/error.h"
#include "interrupt.h"

namespace ferry::pack {

const Command kCommands[] = {
    {"keygen", "create a signing key pair (minisign format)",
     "usage: ferry-pack keygen -o BASE [--password] [--force]\n"
     "\n"
     "Creates BASE.key (secret, mode 0600) and BASE.pub (public) in minisign's formats.\n"
     "  -o, --output BASE   base name of the two files\n"
     "  --password          encrypt the secret key with a password (scrypt, as minisign);\n"
     "                      read from the terminal, or one line of stdin when not a terminal\n"
     "  -f, --force         replace an existing key pair\n",
     run_keygen},
    {"build", "build a package from a source directory; prints its object id",
     "usage: ferry-pack build SRC_DIR -o FILE.ferry [--key BASE.key] [--level N]\n"
     "\n"
     "Builds SRC_DIR (ferry.json, files/, scripts/) into a reproducible package and prints its\n"
     "object id (BLAKE2b-256, as b2sum -l 256) on stdout. The manifest's file list with\n"
     "hashes is computed here. The same source always gives the same bytes.\n"
     "  -o, --output FILE   the package to write (replaced atomically)\n"
     "  -k, --key KEY       also sign it, writing FILE.minisig\n"
     "  --level N           zstd level 1-19 (default 3)\n",
     run_build},
    {"sign", "sign an existing package",
     "usage: ferry-pack sign FILE.ferry --key BASE.key\n"
     "\n"
     "Checks the package's content against its manifest, then writes FILE.ferry.minisig: a\n"
     "minisign signature whose trusted comment names the package, version and object id.\n",
     run_sign},
    {"verify", "verify a package's signature and every file in it",
     "usage: ferry-pack verify FILE.ferry --pub BASE.pub [--sig FILE.minisig]\n"
     "\n"
     "Checks the signature (default FILE.ferry.minisig) against the public key, that it names\n"
     "this package, version and object id, then every entry against the manifest's hashes.\n"
     "Exit 0 when everything matches, 1 when anything does not.\n",
     run_verify},
    {"inspect", "show a package's manifest",
     "usage: ferry-pack inspect FILE.ferry [--json]\n"
     "\n"
     "Prints the manifest, object id and size. Contents are not checked: use verify for that.\n"
     "  --json              machine-readable output\n",
     run_inspect},
    {"push", "upload a signed package to a site and register it in the library",
     "usage: ferry-pack push FILE.ferry [--server URL] [--token T] [--sig FILE.minisig]\n"
     "\n"
     "Uploads the package (verified by its id on arrival) and registers it with its signature\n"
     "(default FILE.ferry.minisig). The site accepts it only if a publisher key trusted for the\n"
     "package's name signed it and every file matches the manifest. Needs the packager role.\n"
     "  --server URL        the site, http://HOST:PORT (default: FERRY_SERVER)\n"
     "  --token T           your token (default: FERRY_TOKEN)\n",
     run_push},
};
const int kCommandCount = sizeof kCommands / sizeof kCommands[0];

int print_help(const char* name) {
    for (const auto& c : kCommands) {
        if (std::strcmp(c.name, name) == 0) std::cout << c.usage;
    }
    return 0;
}

namespace {

void print_overview(std::ostream& out) {
    out << "usage: ferry-pack COMMAND [ARGS]\n\ncommands:\n";
    for (const auto& c : kCommands) {
        out << "  " << c.name << std::string(10 - std::strlen(c.name), ' ') << c.summary << "\n";
    }
    out << "\nferry-pack COMMAND --help shows a command's options.\n"
           "Exit codes: 0 success, 1 verification failed or refused by the server, 2 usage or "
           "input error.\n";
}

int exit_code_for(ErrorCode code) {
    switch (code) {
        case ErrorCode::VerificationFailed:
        case ErrorCode::UnsafeArchive:
        case ErrorCode::LimitExceeded:
        case ErrorCode::Unauthenticated:
        case ErrorCode::Forbidden:
        case ErrorCode::Conflict:
            return 1;
        default:
            return 2;
    }
}

}  // namespace
}  // namespace ferry::pack

int main(int argc, char** argv) {
    using namespace ferry;
    using namespace ferry::pack;
    if (argc < 2) {
        print_overview(std::cerr);
        return 2;
    }
    const std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        print_overview(std::cout);
        return 0;
    }
    install_interrupt_handlers();
    for (const auto& command : kCommands) {
        if (name != command.name) continue;
        try {
            return command.run(argc, argv, 2);
        } catch (const Interrupted& e) {
            std::cerr << "ferry-pack " << name << ": " << e.what() << "\n";
            return 130;
        } catch (const UsageError& e) {
            std::cerr << "ferry-pack " << name << ": " << e.what() << "\n\n" << command.usage;
            return 2;
        } catch (const ferry::Error& e) {
            std::cerr << "ferry-pack " << name << ": error: " << e.what() << "\n";
            return exit_code_for(e.code());
        } catch (const std::exception& e) {
            std::cerr << "ferry-pack " << name << ": internal error: " << e.what() << "\n";
            return 2;
        }
    }
    std::cerr << "ferry-pack: unknown command \"" << name << "\"\n\n";
    print_overview(std::cerr);
    return 2;
}
