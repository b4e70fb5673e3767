// ferryctl: the admin's command line for a Ferry site. Every command is one REST call; the
// server decides what the caller's role allows.
//
//   ferryctl [--server URL] [--token T] user add NAME --role ROLE [--json]
//   ferryctl [--server URL] [--token T] user list [--json]
//   ferryctl [--server URL] [--token T] user revoke NAME
//
// --server/--token default to FERRY_SERVER/FERRY_TOKEN. Exit codes: 0 success, 1 refused by the
// server (authentication, role, state), 2 usage or input error or an unreachable server.
#include <Poco/JSON/Array.h>
#include <Poco/URI.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>

#include "ferry/api_client.h"
#include "ferry/command_line.h"
#include "ferry/error.h"
#include "ferry/minisign.h"
#include "ferryctl_common.h"

namespace {

using ferry::ApiClient;
using ferry::CommandLine;
using ferry::Error;
using ferry::ErrorCode;
using ferry::UsageError;

const char* kUsage =
    "usage: ferryctl [--server URL] [--token T] COMMAND …\n"
    "\n"
    "  user add NAME --role ROLE [--json]   create a user; prints its token once\n"
    "                                       ROLE: admin, release-manager, cab, packager, viewer\n"
    "  user list [--json]                   users, roles, and whether revoked\n"
    "  user revoke NAME                     revoke a user's token\n"
    "  publisher add NAME --pub KEY.pub --packages P[,P…]   trust a signing key for package names "
    "(admin)\n"
    "  publisher list [--json]\n"
    "  package list [--json] | show NAME [--json] | retire NAME@VERSION   (retire: admin, "
    "release-manager)\n"
    "  package gc [--dry-run]   remove objects of retired versions nothing references (admin)\n"
    "  rfc create --title T [--risk low|medium|high] [--need N] [--description D] [--business-need "
    "B]\n"
    "  rfc list [--json] | show RFC-NNNN [--json]\n"
    "  rfc approve RFC-NNNN [--reason R] | reject RFC-NNNN --reason R   (cab)\n"
    "  release create --title T --rfc RFC-N[,…] --package NAME@VERSION[,…] [--priority P]\n"
    "                 [--description D]          P: low, medium, high, critical\n"
    "  release list [--json] | show REF [--json]\n"
    "  release add-package REF NAME@VERSION        while planning or building\n"
    "  release review REF ITEM --go|--no-go [--note N]   readiness item 1-11, by its role\n"
    "  release transition REF STATE [--reason R]   building, testing, ready, deploying, "
    "deployed,\n"
    "                 closed (--reason: the post-deployment review), suspended, cancelled\n"
    "  release report REF [--json]   what its deployment did: per advertisement, counts, waves,\n"
    "                 failures by exit code; kept with the post-deployment review on closing\n"
    "  release backout REF --reason R [--waves W,…] [--success PCT] [--error PCT] [--sign-off]\n"
    "                 every client that installed the release returns to its previous version\n"
    "                 (or uninstalls), in the original rollouts' waves unless given\n"
    "  secret create [--name N] [--uses N] [--valid-for 7d] [--approve]   an enrolment secret "
    "for\n"
    "                 agents, shown once (--approve: enrolled clients wait for approval)\n"
    "  secret list [--json] | revoke NAME\n"
    "  client list [--json] | show ID [--json] | approve ID | revoke ID\n"
    "  client policy ID [--out FILE]   the signed policy; --out writes FILE and FILE.minisig\n"
    "  collection create NAME (--query Q | --members ID,… | --include C,…) [--exclude C,…]\n"
    "                 [--pilot] [--description D]   query grammar: docs/collections.md\n"
    "  collection update NAME (same options as create)   replaces the definition\n"
    "  collection list [--json] | show NAME [--json] | members NAME | preview QUERY\n"
    "  advertise NAME@VERSION --collection C [--release REF] [--action install|uninstall]\n"
    "                 [--available T] [--deadline T] [--mandatory] [--postpone-max N]\n"
    "                 [--postpone-delay HOURS] [--window \"Mon-Fri 22:00-06:00[;…]\"]\n"
    "                 T: now, +2h, +1d, YYYY-MM-DDTHH:MMZ or unix seconds\n"
    "  advertisement list [--json] | show ID | halt ID | resume ID | cancel ID [--reason R]\n"
    "  advertisement status ID [--json]   counts per state and per-client detail\n"
    "  rollout create NAME@VERSION --collection C --waves W,… [--success PCT] [--error PCT]\n"
    "                 [--sign-off] [advertise's options]   in waves: a collection name or a\n"
    "                 cumulative percentage of C (\"pilots,10%,50%\"; a last 100% is added)\n"
    "  rollout list [--json] | show ID [--json]   waves with progress bars\n"
    "  rollout report ID [--json]   states per wave, failures by exit code with the last log\n"
    "                 line, the DPs serving it, progress over time\n"
    "  rollout halt|resume|cancel|advance ID [--reason R]   advance: start the next wave\n"
    "  rollout watch ID [--interval S] [--timeout S]   follow it live; exit 0 when completed,\n"
    "                 1 when halted or cancelled\n"
    "  dp add NAME [--json] | list [--json] | show NAME [--json] | revoke NAME   distribution\n"
    "                 points; add prints the DP's token once; list and show: its URL, last\n"
    "                 contact, collection, objects, bytes, queue, lag, throughput, schedule\n"
    "  dp assign NAME --collection C|--none   whose agents fetch from it (signed into policy)\n"
    "  dp schedule NAME SPEC   its replication rate schedule, e.g.\n"
    "                 \"Mon-Fri 08:00-18:00 2MiB/s; default unlimited\" (\"\" for unlimited)\n"
    "  dp replica NAME --on|--off   hold the whole library, advertised or not\n"
    "  changelog [--since YYYY-MM-DD[THH:MM:SSZ]] [--json]   every change, oldest first\n"
    "\n"
    "--server and --token default to FERRY_SERVER and FERRY_TOKEN.\n"
    "Exit codes: 0 success, 1 refused by the server, 2 usage or input error.\n";

std::string json_text(const Poco::JSON::Object::Ptr& object) {
    std::ostringstream out;
    object->stringify(out, 2);
    return out.str() + "\n";
}

std::string quoted_json(const std::string& text) {
    Poco::JSON::Object o;
    o.set("v", text);
    std::ostringstream out;
    o.stringify(out);
    const std::string s = out.str();  // {"v":"…"}
    return s.substr(5, s.size() - 6);
}

int user_command(const ApiClient& api, int argc, char** argv, int first) {
    if (first >= argc) throw UsageError("user needs a subcommand: add, list or revoke");
    const std::string sub = argv[first];
    if (sub == "add") {
        const CommandLine args(argc, argv, first + 1, {{"--role", "", true}, {"--json", "", false}},
                               1);
        if (args.help()) return std::cout << kUsage, 0;
        const std::string name = args.positional()[0];
        const auto answer = api.post(
            "/api/v1/users", "{\"name\": " + quoted_json(name) +
                                 ", \"role\": " + quoted_json(args.required("--role")) + "}");
        if (args.flag("--json")) {
            std::cout << json_text(answer);
        } else {
            std::cout << "user " << name << " (" << answer->getValue<std::string>("role")
                      << ") created.\n"
                      << "token (shown once, store it now):\n"
                      << answer->getValue<std::string>("token") << "\n";
        }
        return 0;
    }
    if (sub == "list") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 0);
        if (args.help()) return std::cout << kUsage, 0;
        const auto answer = api.get("/api/v1/users");
        if (args.flag("--json")) {
            std::cout << json_text(answer);
            return 0;
        }
        std::printf("%-24s %-16s %s\n", "NAME", "ROLE", "STATE");
        const auto users = answer->getArray("users");
        for (std::size_t i = 0; i < users->size(); ++i) {
            const auto user = users->getObject(static_cast<unsigned>(i));
            std::printf("%-24s %-16s %s\n", user->getValue<std::string>("name").c_str(),
                        user->getValue<std::string>("role").c_str(),
                        user->has("revoked_at") ? "revoked" : "active");
        }
        return 0;
    }
    if (sub == "revoke") {
        const CommandLine args(argc, argv, first + 1, {}, 1);
        if (args.help()) return std::cout << kUsage, 0;
        const std::string name = args.positional()[0];
        std::string segment;
        Poco::URI::encode(name, "/?#%", segment);
        api.post("/api/v1/users/" + segment + "/revoke", "");
        std::cout << "user " << name << " revoked.\n";
        return 0;
    }
    throw UsageError("unknown user subcommand \"" + sub + "\"");
}

void print_rfc(const Poco::JSON::Object::Ptr& rfc) {
    std::cout << rfc->getValue<std::string>("number") << "  " << rfc->getValue<std::string>("state")
              << "  " << rfc->getValue<std::string>("title") << "\n"
              << "  risk " << rfc->getValue<std::string>("risk") << ", requested by "
              << rfc->getValue<std::string>("requester") << ", needs "
              << rfc->getValue<int>("needed") << " CAB approval(s)\n";
    const auto releases = rfc->getArray("releases");
    for (std::size_t i = 0; releases && i < releases->size(); ++i)
        std::cout << "  carried by " << releases->getElement<std::string>(static_cast<unsigned>(i))
                  << "\n";
    const auto votes = rfc->getArray("votes");
    for (std::size_t i = 0; votes && i < votes->size(); ++i) {
        const auto v = votes->getObject(static_cast<unsigned>(i));
        std::cout << "  " << v->getValue<std::string>("decision") << " by "
                  << v->getValue<std::string>("voter")
                  << (v->getValue<std::string>("reason").empty()
                          ? ""
                          : ": " + v->getValue<std::string>("reason"))
                  << "\n";
    }
}

std::string rfc_path(const std::string& number) {
    if (number.rfind("RFC-", 0) != 0 ||
        number.find_first_not_of("0123456789", 4) != std::string::npos || number.size() < 5) {
        throw UsageError("\"" + number + "\" is not an RFC number (RFC-NNNN)");
    }
    return "/api/v1/rfcs/" + number;
}

int rfc_command(const ApiClient& api, int argc, char** argv, int first) {
    if (first >= argc)
        throw UsageError("rfc needs a subcommand: create, list, show, approve or reject");
    const std::string sub = argv[first];
    if (sub == "create") {
        const CommandLine args(argc, argv, first + 1,
                               {{"--title", "", true},
                                {"--risk", "", true},
                                {"--need", "", true},
                                {"--description", "", true},
                                {"--business-need", "", true},
                                {"--json", "", false}},
                               0);
        if (args.help()) return std::cout << kUsage, 0;
        Poco::JSON::Object request;
        request.set("title", args.required("--title"));
        if (auto risk = args.value("--risk")) request.set("risk", *risk);
        if (auto description = args.value("--description"))
            request.set("description", *description);
        if (auto need = args.value("--business-need")) request.set("business_need", *need);
        if (auto need = args.value("--need")) {
            if (need->empty() || need->find_first_not_of("0123456789") != std::string::npos ||
                need->size() > 3) {
                throw UsageError("--need must be a number");
            }
            request.set("need", std::stoi(*need));
        }
        std::ostringstream body;
        request.stringify(body);
        const auto rfc = api.post("/api/v1/rfcs", body.str());
        if (args.flag("--json"))
            std::cout << json_text(rfc);
        else
            print_rfc(rfc);
        return 0;
    }
    if (sub == "list") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 0);
        if (args.help()) return std::cout << kUsage, 0;
        const auto answer = api.get("/api/v1/rfcs");
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        std::printf("%-10s %-12s %-8s %s\n", "NUMBER", "STATE", "RISK", "TITLE");
        const auto rfcs = answer->getArray("rfcs");
        for (std::size_t i = 0; i < rfcs->size(); ++i) {
            const auto rfc = rfcs->getObject(static_cast<unsigned>(i));
            std::printf("%-10s %-12s %-8s %s\n", rfc->getValue<std::string>("number").c_str(),
                        rfc->getValue<std::string>("state").c_str(),
                        rfc->getValue<std::string>("risk").c_str(),
                        rfc->getValue<std::string>("title").c_str());
        }
        return 0;
    }
    if (sub == "show") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 1);
        if (args.help()) return std::cout << kUsage, 0;
        const auto rfc = api.get(rfc_path(args.positional()[0]));
        if (args.flag("--json"))
            std::cout << json_text(rfc);
        else
            print_rfc(rfc);
        return 0;
    }
    if (sub == "approve" || sub == "reject") {
        const CommandLine args(argc, argv, first + 1, {{"--reason", "", true}}, 1);
        if (args.help()) return std::cout << kUsage, 0;
        if (sub == "reject" && !args.value("--reason")) throw UsageError("reject needs --reason");
        Poco::JSON::Object request;
        request.set("reason", args.value("--reason").value_or(""));
        std::ostringstream body;
        request.stringify(body);
        print_rfc(api.post(rfc_path(args.positional()[0]) + "/" + sub, body.str()));
        return 0;
    }
    throw UsageError("unknown rfc subcommand \"" + sub + "\"");
}

std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(text);
    while (std::getline(in, item, ',')) {
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

int publisher_command(const ApiClient& api, int argc, char** argv, int first) {
    if (first >= argc) throw UsageError("publisher needs a subcommand: add or list");
    const std::string sub = argv[first];
    if (sub == "add") {
        const CommandLine args(argc, argv, first + 1,
                               {{"--pub", "", true}, {"--packages", "", true}}, 1);
        if (args.help()) return std::cout << kUsage, 0;
        const auto key = ferry::minisign::PublicKey::load(args.required("--pub"));
        Poco::JSON::Object request;
        request.set("name", args.positional()[0]);
        request.set("key", key.to_base64());
        Poco::JSON::Array packages;
        for (const auto& p : split_commas(args.required("--packages"))) packages.add(p);
        request.set("packages", packages);
        std::ostringstream body;
        request.stringify(body);
        const auto answer = api.post("/api/v1/publishers", body.str());
        std::cout << "publisher " << args.positional()[0] << " (key " << key.key_id_hex()
                  << ") trusted for " << args.required("--packages") << "\n";
        return 0;
    }
    if (sub == "list") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 0);
        if (args.help()) return std::cout << kUsage, 0;
        const auto answer = api.get("/api/v1/publishers");
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        std::printf("%-24s %-18s %s\n", "NAME", "KEY ID", "PACKAGES");
        const auto list = answer->getArray("publishers");
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto p = list->getObject(static_cast<unsigned>(i));
            std::string patterns;
            const auto pats = p->getArray("packages");
            for (std::size_t k = 0; k < pats->size(); ++k)
                patterns +=
                    (k ? "," : "") + pats->getElement<std::string>(static_cast<unsigned>(k));
            std::printf("%-24s %-18s %s\n", p->getValue<std::string>("name").c_str(),
                        ferry::minisign::PublicKey::parse(p->getValue<std::string>("key"), "answer")
                            .key_id_hex()
                            .c_str(),
                        patterns.c_str());
        }
        return 0;
    }
    throw UsageError("unknown publisher subcommand \"" + sub + "\"");
}

int package_command(const ApiClient& api, int argc, char** argv, int first) {
    if (first >= argc) throw UsageError("package needs a subcommand: list, show or retire");
    const std::string sub = argv[first];
    if (sub == "retire") {
        const CommandLine args(argc, argv, first + 1, {}, 1);
        if (args.help()) return std::cout << kUsage, 0;
        const std::string spec = args.positional()[0];
        const auto at = spec.find('@');
        if (at == std::string::npos || at == 0 || at + 1 == spec.size())
            throw UsageError("retire takes NAME@VERSION");
        std::string name, version;
        Poco::URI::encode(spec.substr(0, at), "/?#%@", name);
        Poco::URI::encode(spec.substr(at + 1), "/?#%@", version);
        api.post("/api/v1/packages/" + name + "/" + version + "/retire", "");
        std::cout << spec << " retired: it stays in the library but takes no new advertisements.\n";
        return 0;
    }
    if (sub == "gc") {
        const CommandLine args(argc, argv, first + 1, {{"--dry-run", "", false}}, 0);
        if (args.help()) return std::cout << kUsage, 0;
        const auto answer = api.post(
            "/api/v1/gc", args.flag("--dry-run") ? "{\"dry_run\": true}" : "{\"dry_run\": false}");
        const auto objects = answer->getArray("objects");
        std::cout << (args.flag("--dry-run") ? "would remove " : "removed ") << objects->size()
                  << " object(s), " << answer->getValue<std::string>("bytes") << " bytes\n";
        for (std::size_t i = 0; i < objects->size(); ++i)
            std::cout << "  " << objects->getElement<std::string>(static_cast<unsigned>(i)) << "\n";
        return 0;
    }
    if (sub != "list" && sub != "show")
        throw UsageError("unknown package subcommand \"" + sub + "\"");
    const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, sub == "show" ? 1 : 0);
    if (args.help()) return std::cout << kUsage, 0;
    std::string path = "/api/v1/packages";
    if (sub == "show") {
        std::string segment;
        Poco::URI::encode(args.positional()[0], "/?#%", segment);
        path += "/" + segment;
    }
    const auto answer = api.get(path);
    if (args.flag("--json")) return std::cout << json_text(answer), 0;
    std::printf("%-20s %-12s %-20s %s\n", "NAME", "VERSION", "PUBLISHER", "OBJECT");
    const auto list = answer->getArray("packages");
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto p = list->getObject(static_cast<unsigned>(i));
        std::printf("%-20s %-12s %-20s %s\n", p->getValue<std::string>("name").c_str(),
                    p->getValue<std::string>("version").c_str(),
                    p->getValue<std::string>("publisher").c_str(),
                    p->getValue<std::string>("object_id").c_str());
    }
    return 0;
}

int exit_code_for(ErrorCode code) {
    switch (code) {
        case ErrorCode::Unauthenticated:
        case ErrorCode::Forbidden:
        case ErrorCode::Conflict:
        case ErrorCode::AlreadyExists:
        case ErrorCode::VerificationFailed:
            return 1;
        default:
            return 2;
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string server = std::getenv("FERRY_SERVER") != nullptr ? std::getenv("FERRY_SERVER") : "";
    std::string token = std::getenv("FERRY_TOKEN") != nullptr ? std::getenv("FERRY_TOKEN") : "";
    int i = 1;
    for (; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "--server" || arg == "--token") && i + 1 < argc) {
            (arg == "--server" ? server : token) = argv[++i];
        } else if (arg == "--help" || arg == "-h") {
            std::cout << kUsage;
            return 0;
        } else {
            break;
        }
    }
    try {
        if (i >= argc) throw UsageError("a command is needed");
        if (server.empty()) throw UsageError("--server URL or FERRY_SERVER is needed");
        const std::string command = argv[i];
        static const std::map<std::string, int (*)(const ApiClient&, int, char**, int)> commands = {
            {"release", ferry::ctl::release_command},
            {"changelog", ferry::ctl::changelog_command},
            {"secret", ferry::ctl::secret_command},
            {"client", ferry::ctl::client_command},
            {"collection", ferry::ctl::collection_command},
            {"advertise", ferry::ctl::advertise_command},
            {"advertisement", ferry::ctl::advertisement_command},
            {"rollout", ferry::ctl::rollout_command},
            {"dp", ferry::ctl::dp_command}};
        const auto known = commands.find(command);
        if (command != "user" && command != "rfc" && command != "publisher" &&
            command != "package" && known == commands.end()) {
            throw UsageError("unknown command \"" + command + "\"");
        }
        const ApiClient api(server, token);
        if (known != commands.end()) {
            // A subcommand's --help prints the whole usage: one page lists every command.
            for (int k = i + 1; k < argc; ++k) {
                if (std::strcmp(argv[k], "--help") == 0 || std::strcmp(argv[k], "-h") == 0)
                    return std::cout << kUsage, 0;
            }
            return known->second(api, argc, argv, i + 1);
        }
        if (command == "user") return user_command(api, argc, argv, i + 1);
        if (command == "rfc") return rfc_command(api, argc, argv, i + 1);
        if (command == "publisher") return publisher_command(api, argc, argv, i + 1);
        if (command == "package") return package_command(api, argc, argv, i + 1);
        throw UsageError("unknown command \"" + command + "\"");
    } catch (const UsageError& e) {
        std::cerr << "ferryctl: " << e.what() << "\n\n" << kUsage;
        return 2;
    } catch (const Error& e) {
        std::cerr << "ferryctl: error: " << e.what() << "\n";
        return exit_code_for(e.code());
    }
}
