// ferryd: the Ferry site server.
//
//   ferryd init --role site --dir DIR [--listen HOST:PORT]   create a site, print the admin token
//   once ferryd --config DIR/ferryd.ini                           serve until SIGTERM or Ctrl-C
//
// main only dispatches and maps errors to exit codes (0 ok, 1 refused, 2 usage or input error).
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <cstring>
#include <iostream>

#include "ferry/error.h"
#include "site_config.h"
#include "site_init.h"
#include "site_server.h"

namespace {

const char* kUsage =
    "usage: ferryd init --role site --dir DIR [--listen HOST:PORT]\n"
    "       ferryd --config DIR/ferryd.ini\n"
    "\n"
    "init    creates the data directory, database, site signing key and ferryd.ini, and prints\n"
    "        the bootstrap admin token (shown once; store it). --listen defaults to "
    "127.0.0.1:8470;\n"
    "        port 0 picks a free port at each start.\n"
    "serve   with --config: serves until SIGTERM or Ctrl-C, printing the address it listens on.\n";

int exit_code_for(ferry::ErrorCode code) {
    return code == ferry::ErrorCode::VerificationFailed ? 1 : 2;
}

int run_init(int argc, char** argv) {
    std::string role, dir, listen = "127.0.0.1:8470";
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                throw ferry::Error(ferry::ErrorCode::InvalidInput, arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--role")
            role = value();
        else if (arg == "--dir")
            dir = value();
        else if (arg == "--listen")
            listen = value();
        else if (arg == "--help" || arg == "-h") {
            std::cout << kUsage;
            return 0;
        } else
            throw ferry::Error(ferry::ErrorCode::InvalidInput, "unknown option " + arg);
    }
    if (role != "site") {
        throw ferry::Error(ferry::ErrorCode::InvalidInput,
                           role.empty() ? "--role is required (site)"
                                        : "--role " + role + ": only \"site\" exists so far");
    }
    if (dir.empty()) throw ferry::Error(ferry::ErrorCode::InvalidInput, "--dir is required");
    const auto result = ferry::server::init_site(dir, listen);
    std::cout << "site initialised: " << result.config_path << "\n"
              << "site public key:  " << result.site_public_key << "\n"
              << "admin token (shown once, store it now):\n"
              << result.admin_token << "\n";
    return 0;
}

class Ferryd : public Poco::Util::ServerApplication {
  protected:
    void defineOptions(Poco::Util::OptionSet& options) override {
        ServerApplication::defineOptions(options);
        options.addOption(Poco::Util::Option("config", "c", "path of ferryd.ini")
                              .required(false)
                              .argument("FILE")
                              .binding("ferryd.config_file"));
    }

    int main(const std::vector<std::string>&) override {
        if (!config().hasProperty("ferryd.config_file")) {
            std::cerr << kUsage;
            return EXIT_USAGE;
        }
        try {
            ferry::server::SiteServer server(
                ferry::server::SiteConfig::load(config().getString("ferryd.config_file")));
            server.start();
            std::cout << "ferryd: listening on http://127.0.0.1:" << server.port() << std::endl;
            waitForTerminationRequest();
            std::cerr << "{\"level\": \"info\", \"msg\": \"stopping\"}" << std::endl;
            server.stop();
            return EXIT_OK;
        } catch (const ferry::Error& e) {
            std::cerr << "ferryd: error: " << e.what() << std::endl;
            return exit_code_for(e.code());
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "init") == 0) {
        try {
            return run_init(argc, argv);
        } catch (const ferry::Error& e) {
            std::cerr << "ferryd init: error: " << e.what() << "\n";
            return exit_code_for(e.code());
        }
    }
    if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
        std::cout << kUsage;
        return 0;
    }
    Ferryd app;
    try {
        return app.run(argc, argv);
    } catch (const Poco::Exception& e) {
        std::cerr << "ferryd: " << e.displayText() << "\n" << kUsage;
        return 2;
    }
}
