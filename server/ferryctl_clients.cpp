// ferryctl secret …, client …: enrolment secrets, clients, their inventory and signed policy.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <iostream>

#include "ferry/atomic_file.h"
#include "ferryctl_common.h"

namespace ferry::ctl {
namespace {

// "30d", "12h", "90m", "3600" (seconds) -> seconds.
std::int64_t parse_duration(const std::string& text, const std::string& option) {
    if (text.empty() || text.size() > 12) throw UsageError(option + " takes a duration like 7d");
    const char unit = text.back();
    const std::string digits =
        std::isdigit(static_cast<unsigned char>(unit)) ? text : text.substr(0, text.size() - 1);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
        throw UsageError(option + " takes a duration like 7d, 12h, 30m or seconds");
    const std::int64_t n = std::stoll(digits);
    switch (unit) {
        case 'd':
            return n * 86400;
        case 'h':
            return n * 3600;
        case 'm':
            return n * 60;
        case 's':
            return n;
        default:
            if (std::isdigit(static_cast<unsigned char>(unit))) return n;
            throw UsageError(option + " takes a duration like 7d, 12h, 30m or seconds");
    }
}

void print_client(const Poco::JSON::Object::Ptr& c) {
    std::cout << text_of(c, "id") << "  " << text_of(c, "hostname") << "  " << text_of(c, "state")
              << "\n  enrolled " << utc_time(text_of(c, "enrolled_at")) << ", last seen "
              << (c->has("last_seen_at") ? utc_time(text_of(c, "last_seen_at")) : "never")
              << ", inventory #" << text_of(c, "inventory_seq") << "\n";
    if (const auto facts = c->getObject("facts")) {
        std::cout << "  hardware and system:\n";
        for (const auto& [key, value] : *facts)
            std::cout << "    " << key << " = " << value.convert<std::string>() << "\n";
    }
    if (const auto software = c->getArray("software")) {
        std::cout << "  software (" << software->size() << "):\n";
        for (std::size_t i = 0; i < software->size(); ++i) {
            const auto p = software->getObject(static_cast<unsigned>(i));
            std::cout << "    " << text_of(p, "name") << " " << text_of(p, "version") << "\n";
        }
    }
}

}  // namespace

int secret_command(const ApiClient& api, int argc, char** argv, int first) {
    if (first >= argc) throw UsageError("secret needs a subcommand: create, list or revoke");
    const std::string sub = argv[first];
    if (sub == "create") {
        const CommandLine args(argc, argv, first + 1,
                               {{"--name", "", true},
                                {"--uses", "", true},
                                {"--valid-for", "", true},
                                {"--approve", "", false},
                                {"--json", "", false}},
                               0);
        Poco::JSON::Object request;
        const std::string name = args.value("--name").value_or("agents");
        request.set("name", name);
        request.set("requires_approval", args.flag("--approve"));
        if (auto uses = args.value("--uses")) {
            if (uses->empty() || uses->size() > 7 ||
                uses->find_first_not_of("0123456789") != std::string::npos)
                throw UsageError("--uses must be a number");
            request.set("uses", std::stoll(*uses));
        }
        if (auto valid = args.value("--valid-for"))
            request.set("valid_for", parse_duration(*valid, "--valid-for"));
        const auto answer = api.post("/api/v1/secrets", body_of(request));
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        std::cout << "enrolment secret " << name << " created"
                  << (args.flag("--approve") ? " (clients wait for approval)" : "") << ".\n"
                  << "secret (shown once; give it to ferry-agent enroll --secret):\n"
                  << text_of(answer, "secret") << "\n";
        return 0;
    }
    if (sub == "list") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 0);
        const auto answer = api.get("/api/v1/secrets");
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        std::vector<std::vector<std::string>> rows;
        const auto list = answer->getArray("secrets");
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto s = list->getObject(static_cast<unsigned>(i));
            rows.push_back({text_of(s, "name"), s->has("revoked_at") ? "revoked" : "active",
                            s->has("uses_left") ? text_of(s, "uses_left") : "unlimited",
                            s->getValue<bool>("requires_approval") ? "yes" : "no",
                            text_of(s, "created_by")});
        }
        print_table({"NAME", "STATE", "USES LEFT", "APPROVAL", "CREATED BY"}, rows);
        return 0;
    }
    if (sub == "revoke") {
        const CommandLine args(argc, argv, first + 1, {}, 1);
        api.post("/api/v1/secrets/" + segment(args.positional()[0]) + "/revoke", "");
        std::cout << "enrolment secret " << args.positional()[0] << " revoked.\n";
        return 0;
    }
    throw UsageError("unknown secret subcommand \"" + sub + "\"");
}

int client_command(const ApiClient& api, int argc, char** argv, int first) {
    if (first >= argc)
        throw UsageError("client needs a subcommand: list, show, approve, revoke or policy");
    const std::string sub = argv[first];
    if (sub == "list") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 0);
        Poco::JSON::Array all;
        std::string after = "0";
        for (;;) {
            const auto page = api.get("/api/v1/clients?limit=10000&after=" + after);
            const auto list = page->getArray("clients");
            for (std::size_t i = 0; i < list->size(); ++i) all.add(list->get(i));
            if (list->size() < 10000) break;
            after = text_of(page, "next_after");
        }
        if (args.flag("--json")) {
            Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
            out->set("clients", all);
            return std::cout << json_text(out), 0;
        }
        std::vector<std::vector<std::string>> rows;
        for (std::size_t i = 0; i < all.size(); ++i) {
            const auto c = all.getObject(static_cast<unsigned>(i));
            rows.push_back({text_of(c, "id"), text_of(c, "hostname"), text_of(c, "state"),
                            c->has("last_seen_at") ? utc_time(text_of(c, "last_seen_at")) : "never",
                            text_of(c, "inventory_seq")});
        }
        print_table({"CLIENT", "HOSTNAME", "STATE", "LAST SEEN", "INVENTORY"}, rows);
        return 0;
    }
    if (sub == "show") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 1);
        const auto client = api.get("/api/v1/clients/" + segment(args.positional()[0]));
        if (args.flag("--json")) return std::cout << json_text(client), 0;
        print_client(client);
        return 0;
    }
    if (sub == "approve" || sub == "revoke") {
        const CommandLine args(argc, argv, first + 1, {}, 1);
        const auto client =
            api.post("/api/v1/clients/" + segment(args.positional()[0]) + "/" + sub, "");
        std::cout << "client " << text_of(client, "id") << " is " << text_of(client, "state")
                  << ".\n";
        return 0;
    }
    if (sub == "policy") {
        const CommandLine args(argc, argv, first + 1, {{"--out", "", true}}, 1);
        const auto envelope =
            api.get("/api/v1/clients/" + segment(args.positional()[0]) + "/policy");
        const std::string json = text_of(envelope, "policy");
        if (!args.value("--out")) {
            std::cout << json << "\n";
            return 0;
        }
        // policy.json and policy.json.minisig: `minisign -Vm policy.json -p site.pub` checks it.
        const std::string path = *args.value("--out");
        write_file_atomically(path, json, 0644);
        write_file_atomically(path + ".minisig", text_of(envelope, "signature"), 0644);
        std::cout << "policy version " << text_of(envelope, "version") << " written to " << path
                  << " and " << path << ".minisig\n";
        return 0;
    }
    throw UsageError("unknown client subcommand \"" + sub + "\"");
}

}  // namespace ferry::ctl
