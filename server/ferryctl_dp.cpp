// ferryctl dp …: register, list and revoke distribution points.
#include <Poco/JSON/Array.h>

#include <iostream>

#include "ferryctl_common.h"

namespace ferry::ctl {

int dp_command(const ApiClient& api, int argc, char** argv, int first) {
    if (first >= argc) throw UsageError("dp needs a subcommand: add, list or revoke");
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
            rows.push_back(
                {text_of(dp, "name"), text_of(dp, "state"),
                 dp->has("last_seen_at") ? utc_time(text_of(dp, "last_seen_at")) : "never",
                 text_of(dp, "created_by")});
        }
        print_table({"NAME", "STATE", "LAST SEEN", "REGISTERED BY"}, rows);
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
