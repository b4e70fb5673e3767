// ferryctl dp …: register, list, show, assign, schedule, replica and revoke distribution
// points (docs/api.md, "Distribution points and the feed").
#include <Poco/JSON/Array.h>

#include <iostream>

#include "ferryctl_common.h"

namespace ferry::ctl {

int dp_command(const ApiClient& api, int argc, char** argv, int first) {
    if (first >= argc)
        throw UsageError(
            "dp needs a subcommand: add, list, show, assign, schedule, replica or revoke");
    const std::string sub = argv[first];
    if (sub == "add") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 1);
        Poco::JSON::Object request;
        request.set("name", args.positional()[0]);
        const auto answer = api.post("/api/v1/dps", body_of(request));
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        std::cout << "distribution point " << args.positional()[0] << " registered.\n"
                  << "token (shown once; give it to ferryd init --role dp --token):\n"
                  << text_of(answer, "token") << "\n";
        return 0;
    }
    if (sub == "list") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 0);
        const auto answer = api.get("/api/v1/dps");
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        std::vector<std::vector<std::string>> rows;
        const auto list = answer->getArray("dps");
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto dp = list->getObject(static_cast<unsigned>(i));
            const auto report = dp->getObject("report");
            auto figure = [&](const char* key) {
                return report && report->has(key) ? text_of(report, key) : "-";
            };
            rows.push_back(
                {text_of(dp, "name"), text_of(dp, "state"),
                 text_of(dp, "url").empty() ? "-" : text_of(dp, "url"),
                 dp->has("last_seen_at") ? utc_time(text_of(dp, "last_seen_at")) : "never",
                 text_of(dp, "collection").empty() ? "-" : text_of(dp, "collection"),
                 figure("objects"), figure("bytes"), figure("queue"), figure("lag"),
                 figure("throughput"),
                 (text_of(dp, "replica") == "true" ? "replica; " : "") +
                     (text_of(dp, "schedule").empty() ? "unlimited" : text_of(dp, "schedule"))});
        }
        print_table({"NAME", "STATE", "URL", "LAST CONTACT", "SERVES", "OBJECTS", "BYTES", "QUEUE",
                     "LAG (S)", "B/S", "SCHEDULE"},
                    rows);
        return 0;
    }
    if (sub == "show") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 1);
        const auto dp = api.get("/api/v1/dps/" + segment(args.positional()[0]));
        if (args.flag("--json")) return std::cout << json_text(dp), 0;
        const auto report = dp->getObject("report");
        auto figure = [&](const char* key) {
            return report && report->has(key) ? text_of(report, key) : "-";
        };
        std::cout << "name          " << text_of(dp, "name") << " (" << text_of(dp, "state")
                  << ")\n"
                  << "url           " << (text_of(dp, "url").empty() ? "-" : text_of(dp, "url"))
                  << "\n"
                  << "last contact  "
                  << (dp->has("last_seen_at") ? utc_time(text_of(dp, "last_seen_at")) : "never")
                  << "\n"
                  << "serves        "
                  << (text_of(dp, "collection").empty() ? "no collection"
                                                        : "collection " + text_of(dp, "collection"))
                  << "\n"
                  << "schedule      "
                  << (text_of(dp, "schedule").empty() ? "unlimited" : text_of(dp, "schedule"))
                  << "\n"
                  << "replica       " << text_of(dp, "replica") << "\n"
                  << "objects       " << figure("objects") << " (" << figure("bytes") << " bytes)\n"
                  << "queue         " << figure("queue") << " report(s) not yet forwarded\n"
                  << "lag           " << figure("lag") << " s since its last full sync\n"
                  << "throughput    " << figure("throughput") << " bytes/s\n";
        return 0;
    }
    if (sub == "assign" || sub == "schedule" || sub == "replica") {
        const CommandLine args(argc, argv, first + 1,
                               {{"--collection", "", true},
                                {"--none", "", false},
                                {"--on", "", false},
                                {"--off", "", false}},
                               sub == "schedule" ? 2 : 1);
        Poco::JSON::Object request;
        if (sub == "assign") {
            if (!args.value("--collection") && !args.flag("--none"))
                throw UsageError("dp assign NAME --collection C (or --none)");
            request.set("collection", args.value("--collection").value_or(""));
        } else if (sub == "schedule") {
            request.set("schedule", args.positional()[1]);
        } else {
            if (args.flag("--on") == args.flag("--off"))
                throw UsageError("dp replica NAME --on|--off");
            request.set("replica", args.flag("--on"));
        }
        const auto dp =
            api.post("/api/v1/dps/" + segment(args.positional()[0]) + "/" + sub, body_of(request));
        std::cout << "distribution point " << text_of(dp, "name") << ": serves "
                  << (text_of(dp, "collection").empty() ? "no collection"
                                                        : text_of(dp, "collection"))
                  << ", schedule "
                  << (text_of(dp, "schedule").empty() ? "unlimited" : text_of(dp, "schedule"))
                  << (text_of(dp, "replica") == "true" ? ", replica of the whole library" : "")
                  << "\n";
        return 0;
    }
    if (sub == "revoke") {
        const CommandLine args(argc, argv, first + 1, {}, 1);
        api.post("/api/v1/dps/" + segment(args.positional()[0]) + "/revoke", "");
        std::cout << "distribution point " << args.positional()[0] << " revoked.\n";
        return 0;
    }
    throw UsageError("unknown dp subcommand \"" + sub + "\"");
}

}  // namespace ferry::ctl
