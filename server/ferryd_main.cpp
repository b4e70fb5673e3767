// ferryd: the Ferry site server.
//
//   ferryd init --role site --dir DIR [--listen HOST:PORT]   create a site, print the admin token
//                                                              once
//   ferryd --config DIR/ferryd.ini                           serve until SIGTERM or Ctrl-C
//   ferryd backup --config DIR/ferryd.ini --to BACKUP_DIR    copy a (running) site consistently
//   ferryd restore --from BACKUP_DIR --dir NEW_DIR [--listen HOST:PORT]   make a site from a backup
//
// main only dispatches and maps errors to exit codes (0 ok, 1 refused or verification failure,
// 2 usage or input error).
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dp_node_init.h"
#include "dp_node_server.h"
#include "ferry/error.h"
#include "listen_socket.h"
#include "site_backup.h"
#include "site_config.h"
#include "site_init.h"
#include "site_server.h"

namespace {

const char* kUsage =
    "usage: ferryd init --role site --dir DIR [--listen HOST:PORT]\n"
    "       ferryd init --role dp --dir DIR --parent URL --token T [--listen HOST:PORT]\n"
    "                   [--sync-interval SECONDS]   how often it pulls its parent (default 5)\n"
    "       ferryd --config DIR/ferryd.ini\n"
    "       ferryd backup --config DIR/ferryd.ini --to BACKUP_DIR [--json]\n"
    "       ferryd restore --from BACKUP_DIR --dir NEW_DIR [--listen HOST:PORT]\n"
    "\n"
    "init     creates the data directory, database, site signing key and ferryd.ini, and\n"
    "         prints the bootstrap admin token (shown once; store it). --listen defaults to\n"
    "         127.0.0.1:8470; port 0 picks a free port at each start.\n"
    "serve    with --config: serves until SIGTERM or Ctrl-C, printing the address it listens\n"
    "         on. HTTPS when ferryd.ini sets tls_certificate and tls_key (PEM files); plain\n"
    "         HTTP only on a loopback address.\n"
    "backup   copies a site, running or not, into BACKUP_DIR (new or empty): the database as\n"
    "         one consistent snapshot, then every object (re-hashed), the keys and ferryd.ini;\n"
    "         backup.json, written last, marks the backup complete. --json prints it.\n"
    "restore  makes a new site in NEW_DIR (new or empty) from a complete backup, verifying\n"
    "         every file and object as it goes (a failure leaves nothing behind); ferryd.ini\n"
    "         gets the new data_dir, and --listen if given.\n"
    "         Then: ferryd --config NEW_DIR/ferryd.ini\n"
    "\n"
    "Exit codes: 0 success, 1 a verification failure, 2 a usage or input error.\n";

int exit_code_for(ferry::ErrorCode code) {
    return code == ferry::ErrorCode::VerificationFailed ? 1 : 2;
}

int run_init(int argc, char** argv) {
    std::string role, dir, listen = "127.0.0.1:8470", parent, token, sync_interval = "5";
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
        else if (arg == "--parent")
            parent = value();
        else if (arg == "--token")
            token = value();
        else if (arg == "--sync-interval")
            sync_interval = value();
        else if (arg == "--help" || arg == "-h") {
            std::cout << kUsage;
            return 0;
        } else
            throw ferry::Error(ferry::ErrorCode::InvalidInput, "unknown option " + arg);
    }
    if (role != "site" && role != "dp") {
        throw ferry::Error(ferry::ErrorCode::InvalidInput,
                           role.empty() ? "--role is required (site or dp)"
                                        : "--role " + role + ": expected site or dp");
    }
    if (dir.empty()) throw ferry::Error(ferry::ErrorCode::InvalidInput, "--dir is required");
    if (role == "dp") {
        if (parent.empty() || token.empty())
            throw ferry::Error(ferry::ErrorCode::InvalidInput,
                               "--role dp needs --parent URL and --token T (ferryctl dp add)");
        if (sync_interval.empty() || sync_interval.size() > 4 ||
            sync_interval.find_first_not_of("0123456789") != std::string::npos)
            throw ferry::Error(ferry::ErrorCode::InvalidInput,
                               "--sync-interval must be 1 to 3600 seconds");
        const std::string config_path =
            ferry::server::init_dp(dir, listen, parent, token, std::stoi(sync_interval));
        std::cout << "distribution point initialised: " << config_path << "\n"
                  << "parent: " << parent << "\n"
                  << "start it with: ferryd --config " << config_path << "\n";
        return 0;
    }
    const auto result = ferry::server::init_site(dir, listen);
    std::cout << "site initialised: " << result.config_path << "\n"
              << "site public key:  " << result.site_public_key << "\n"
              << "admin token (shown once, store it now):\n"
              << result.admin_token << "\n";
    return 0;
}

// --option VALUE pairs and flags after the subcommand; --help prints the usage.
struct Arguments {
    std::map<std::string, std::string> values;
    bool help = false;
    bool json = false;
};

Arguments parse_arguments(int argc, char** argv, const std::vector<std::string>& options,
                          bool json_allowed) {
    Arguments args;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            args.help = true;
        } else if (json_allowed && arg == "--json") {
            args.json = true;
        } else if (std::find(options.begin(), options.end(), arg) != options.end()) {
            if (i + 1 >= argc)
                throw ferry::Error(ferry::ErrorCode::InvalidInput, arg + " needs a value");
            args.values[arg] = argv[++i];
        } else {
            throw ferry::Error(ferry::ErrorCode::InvalidInput, "unknown option " + arg);
        }
    }
    return args;
}

std::string required(const Arguments& args, const std::string& option) {
    const auto it = args.values.find(option);
    if (it == args.values.end() || it->second.empty())
        throw ferry::Error(ferry::ErrorCode::InvalidInput, option + " is required");
    return it->second;
}

int run_backup(int argc, char** argv) {
    const Arguments args = parse_arguments(argc, argv, {"--config", "--to"}, true);
    if (args.help) {
        std::cout << kUsage;
        return 0;
    }
    const auto summary =
        ferry::server::backup_site(required(args, "--config"), required(args, "--to"));
    if (args.json) {
        std::cout << summary.manifest_json;
    } else {
        std::cout << "backup of " << summary.data_dir << " written to " << summary.backup_dir
                  << "\n"
                  << "schema version " << summary.schema_version << ", " << summary.objects
                  << " objects (" << summary.object_bytes << " bytes)\n";
    }
    return 0;
}

int run_restore(int argc, char** argv) {
    const Arguments args = parse_arguments(argc, argv, {"--from", "--dir", "--listen"}, false);
    if (args.help) {
        std::cout << kUsage;
        return 0;
    }
    std::optional<std::string> listen;
    if (args.values.count("--listen") != 0) listen = args.values.at("--listen");
    const auto summary =
        ferry::server::restore_site(required(args, "--from"), required(args, "--dir"), listen);
    std::cout << "site restored: " << summary.config_path << "\n"
              << "schema version " << summary.schema_version << ", " << summary.objects
              << " objects (" << summary.object_bytes << " bytes); listens on " << summary.listen
              << "\n"
              << "start it with: ferryd --config " << summary.config_path << "\n";
    return 0;
}

class Ferryd : public Poco::Util::ServerApplication {
  protected:
    int serve_dp(const ferry::server::SiteConfig& config) {
        ferry::server::DpNodeServer server(config);
        server.start();
        const std::string host = config.listen_host.find(':') != std::string::npos
                                     ? "[" + config.listen_host + "]"
                                     : config.listen_host;
        std::cout << "ferryd: distribution point listening on "
                  << ferry::server::listen_scheme(config) << "://" << host << ":" << server.port()
                  << " (parent " << config.parent << ")" << std::endl;
        waitForTerminationRequest();
        std::cerr << "{\"level\": \"info\", \"role\": \"dp\", \"msg\": \"stopping\"}" << std::endl;
        server.stop();
        return EXIT_OK;
    }

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
            const auto site =
                ferry::server::SiteConfig::load(config().getString("ferryd.config_file"));
            if (site.role == "dp") return serve_dp(site);
            ferry::server::SiteServer server(site);
            server.start();
            const std::string host = site.listen_host.find(':') != std::string::npos
                                         ? "[" + site.listen_host + "]"
                                         : site.listen_host;
            std::cout << "ferryd: listening on " << ferry::server::listen_scheme(site) << "://"
                      << host << ":" << server.port() << std::endl;
            if (server.console_dir().empty())
                std::cerr << "{\"level\": \"warning\", \"msg\": \"the web console is not "
                             "installed: no share/ferry/console beside ferryd and no console_dir "
                             "in the config\"}"
                          << std::endl;
            else
                std::cout << "ferryd: web console at " << ferry::server::listen_scheme(site)
                          << "://" << host << ":" << server.port() << "/console/ (files in "
                          << server.console_dir() << ")" << std::endl;
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
    for (const auto& [name, run] :
         {std::pair<const char*, int (*)(int, char**)>{"backup", run_backup},
          std::pair<const char*, int (*)(int, char**)>{"restore", run_restore}}) {
        if (argc >= 2 && std::strcmp(argv[1], name) == 0) {
            try {
                return run(argc, argv);
            } catch (const ferry::Error& e) {
                std::cerr << "ferryd " << name << ": error: " << e.what() << "\n";
                return exit_code_for(e.code());
            }
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
