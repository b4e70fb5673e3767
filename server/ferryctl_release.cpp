// ferryctl release …: create, list, show, add a package, review, transition.
#include <Poco/JSON/Array.h>

#include <iostream>

#include "ferryctl_common.h"

namespace ferry::ctl {
namespace {

void print_release(const Poco::JSON::Object::Ptr& r) {
    std::cout << text_of(r, "reference") << "  " << text_of(r, "state") << "  "
              << text_of(r, "title") << "\n"
              << "  priority " << text_of(r, "priority") << ", created by "
              << text_of(r, "created_by") << ", review round " << text_of(r, "review_round")
              << "\n";
    std::string rfcs, packages;
    const auto rfc_list = r->getArray("rfcs");
    for (std::size_t i = 0; rfc_list && i < rfc_list->size(); ++i)
        rfcs += (i ? ", " : "") + rfc_list->getElement<std::string>(static_cast<unsigned>(i));
    const auto package_list = r->getArray("packages");
    for (std::size_t i = 0; package_list && i < package_list->size(); ++i)
        packages +=
            (i ? ", " : "") + package_list->getElement<std::string>(static_cast<unsigned>(i));
    std::cout << "  RFCs: " << rfcs << "\n  packages: " << packages << "\n";
    if (!text_of(r, "closing_review").empty())
        std::cout << "  post-deployment review: " << text_of(r, "closing_review") << "\n";
    if (const auto results = r->getObject("closing_results"))
        std::cout << "  results when closed: " << text_of(results, "succeeded") << " succeeded, "
                  << text_of(results, "failed") << " failed, " << text_of(results, "rolled_back")
                  << " rolled back"
                  << (results->has("duration_s")
                          ? ", deployed in " + text_of(results, "duration_s") + " s"
                          : std::string())
                  << " (ferryctl release report " << text_of(r, "reference") << ")\n";
    std::cout << "  readiness review:\n";
    const auto items = r->getArray("readiness");
    for (std::size_t i = 0; items && i < items->size(); ++i) {
        const auto item = items->getObject(static_cast<unsigned>(i));
        std::string by;
        const auto signoffs = item->getArray("signoffs");
        for (std::size_t k = 0; signoffs && k < signoffs->size(); ++k) {
            const auto s = signoffs->getObject(static_cast<unsigned>(k));
            by += (k ? ", " : " by ") + text_of(s, "signer") +
                  (text_of(s, "note").empty() ? "" : " (" + text_of(s, "note") + ")");
        }
        std::printf("    %2s. %-8s %-16s %s%s\n", text_of(item, "item").c_str(),
                    text_of(item, "decision").c_str(), text_of(item, "role").c_str(),
                    text_of(item, "text").c_str(), by.c_str());
    }
}

std::string release_path(const std::string& reference) {
    if (reference.rfind("REL-", 0) != 0)
        throw UsageError("\"" + reference + "\" is not a release reference (REL-YYYY-NNNN)");
    return "/api/v1/releases/" + segment(reference);
}

int show_or_json(const CommandLine& args, const Poco::JSON::Object::Ptr& release) {
    if (args.flag("--json"))
        std::cout << json_text(release);
    else
        print_release(release);
    return 0;
}

std::int64_t count_of(const Poco::JSON::Object::Ptr& o, const std::string& field) {
    return o && o->has(field) ? o->getValue<Poco::Int64>(field) : 0;
}

// What the release's deployment did: per advertisement, its counts, its waves and failures.
void print_report(const Poco::JSON::Object::Ptr& report) {
    std::cout << text_of(report, "release") << "  " << text_of(report, "state") << "\n  "
              << text_of(report, "succeeded") << " succeeded, " << text_of(report, "failed")
              << " failed, " << text_of(report, "rolled_back") << " rolled back";
    if (report->has("started_at"))
        std::cout << "; started " << utc_time(text_of(report, "started_at"));
    if (report->has("finished_at"))
        std::cout << ", finished " << utc_time(text_of(report, "finished_at")) << " ("
                  << text_of(report, "duration_s") << " s)";
    std::cout << "\n";
    const auto ads = report->getArray("advertisements");
    for (std::size_t i = 0; i < ads->size(); ++i) {
        const auto a = ads->getObject(static_cast<unsigned>(i));
        std::string counts;
        for (const auto& [state, n] : *a->getObject("counts"))
            counts += (counts.empty() ? "" : ", ") + state + " " + n.convert<std::string>();
        std::cout << "\n"
                  << text_of(a, "advertisement") << "  " << text_of(a, "action") << " "
                  << text_of(a, "package") << " on " << text_of(a, "collection") << " ("
                  << text_of(a, "state") << "), " << text_of(a, "targeted")
                  << " targeted: " << (counts.empty() ? "nothing reported" : counts) << "\n";
        const auto rollout_report = a->getObject("rollout");
        if (!rollout_report) continue;
        const auto rollout = rollout_report->getObject("rollout");
        std::vector<std::vector<std::string>> rows;
        const auto waves = rollout->getArray("waves");
        for (std::size_t w = 0; w < waves->size(); ++w) {
            const auto wave = waves->getObject(static_cast<unsigned>(w));
            rows.push_back(
                {text_of(rollout, "id") + " wave " + text_of(wave, "number"),
                 text_of(wave, "state"),
                 progress_bar(count_of(wave, "members"), count_of(wave, "succeeded"),
                              count_of(wave, "failed"), count_of(wave, "in_progress"), 20),
                 text_of(wave, "succeeded") + "/" + text_of(wave, "members"),
                 text_of(wave, "failed")});
        }
        print_table({"WAVE", "STATE", "PROGRESS", "OK", "FAILED"}, rows);
        const auto failures = rollout_report->getArray("failures");
        for (std::size_t f = 0; f < failures->size(); ++f) {
            const auto g = failures->getObject(static_cast<unsigned>(f));
            std::string tail = text_of(g, "log_tail");
            while (!tail.empty() && tail.back() == '\n') tail.pop_back();
            if (const auto nl = tail.rfind('\n'); nl != std::string::npos)
                tail = tail.substr(nl + 1);
            std::cout << "  " << text_of(g, "clients") << " " << text_of(g, "state")
                      << (g->has("exit_code") ? " (exit " + text_of(g, "exit_code") + ")" : "")
                      << ": " << tail.substr(0, 80) << "\n";
        }
    }
}

}  // namespace

int release_command(const ApiClient& api, int argc, char** argv, int first) {
    if (first >= argc)
        throw UsageError(
            "release needs a subcommand: create, list, show, add-package, review or transition");
    const std::string sub = argv[first];
    if (sub == "create") {
        const CommandLine args(argc, argv, first + 1,
                               {{"--title", "", true},
                                {"--rfc", "", true},
                                {"--package", "", true},
                                {"--priority", "", true},
                                {"--description", "", true},
                                {"--json", "", false}},
                               0);
        if (args.help()) return 0;
        Poco::JSON::Object request;
        request.set("title", args.required("--title"));
        Poco::JSON::Array rfcs, packages;
        for (const auto& rfc : split_commas(args.required("--rfc"))) rfcs.add(rfc);
        for (const auto& p : split_commas(args.required("--package"))) packages.add(p);
        request.set("rfcs", rfcs);
        request.set("packages", packages);
        if (auto priority = args.value("--priority")) request.set("priority", *priority);
        if (auto description = args.value("--description"))
            request.set("description", *description);
        return show_or_json(args, api.post("/api/v1/releases", body_of(request)));
    }
    if (sub == "list") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 0);
        if (args.help()) return 0;
        const auto answer = api.get("/api/v1/releases");
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        std::vector<std::vector<std::string>> rows;
        const auto list = answer->getArray("releases");
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto r = list->getObject(static_cast<unsigned>(i));
            rows.push_back({text_of(r, "reference"), text_of(r, "state"), text_of(r, "priority"),
                            text_of(r, "title")});
        }
        print_table({"REFERENCE", "STATE", "PRIORITY", "TITLE"}, rows);
        return 0;
    }
    if (sub == "show") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 1);
        if (args.help()) return 0;
        return show_or_json(args, api.get(release_path(args.positional()[0])));
    }
    if (sub == "add-package") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 2);
        if (args.help()) return 0;
        Poco::JSON::Object request;
        request.set("package", args.positional()[1]);
        return show_or_json(
            args, api.post(release_path(args.positional()[0]) + "/packages", body_of(request)));
    }
    if (sub == "review") {
        const CommandLine args(argc, argv, first + 1,
                               {{"--go", "", false},
                                {"--no-go", "", false},
                                {"--note", "", true},
                                {"--json", "", false}},
                               2);
        if (args.help()) return 0;
        if (args.flag("--go") == args.flag("--no-go"))
            throw UsageError("review takes exactly one of --go and --no-go");
        const std::string item = args.positional()[1];
        if (item.empty() || item.size() > 3 ||
            item.find_first_not_of("0123456789") != std::string::npos)
            throw UsageError("ITEM must be a readiness item number (1-11)");
        Poco::JSON::Object request;
        request.set("item", std::stoi(item));
        request.set("decision", args.flag("--go") ? "go" : "no-go");
        request.set("note", args.value("--note").value_or(""));
        return show_or_json(
            args, api.post(release_path(args.positional()[0]) + "/review", body_of(request)));
    }
    if (sub == "transition") {
        const CommandLine args(argc, argv, first + 1,
                               {{"--reason", "", true}, {"--json", "", false}}, 2);
        if (args.help()) return 0;
        Poco::JSON::Object request;
        request.set("state", args.positional()[1]);
        request.set("reason", args.value("--reason").value_or(""));
        return show_or_json(
            args, api.post(release_path(args.positional()[0]) + "/transition", body_of(request)));
    }
    if (sub == "report") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 1);
        if (args.help()) return 0;
        const auto answer = api.get(release_path(args.positional()[0]) + "/report");
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        print_report(answer);
        return 0;
    }
    if (sub == "backout") {
        auto options = rollout_plan_options();
        options.insert(options.end(), {{"--reason", "", true}, {"--json", "", false}});
        const CommandLine args(argc, argv, first + 1, options, 1);
        if (args.help()) return 0;
        Poco::JSON::Object request;
        request.set("reason", args.required("--reason"));
        set_rollout_plan(request, args);
        const auto answer =
            api.post(release_path(args.positional()[0]) + "/backout", body_of(request));
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        const auto rollouts = answer->getArray("rollouts");
        std::cout << text_of(answer, "release") << " is backed out: " << text_of(answer, "clients")
                  << " client(s) return to what they had before, in " << rollouts->size()
                  << " rollout(s)\n";
        for (std::size_t i = 0; i < rollouts->size(); ++i) {
            const auto r = rollouts->getObject(static_cast<unsigned>(i));
            std::cout << "  " << text_of(r, "id") << "  " << text_of(r, "action") << " "
                      << text_of(r, "package") << " on " << text_of(r, "collection") << "\n";
        }
        if (rollouts->size() > 0)
            std::cout << "follow them with: ferryctl rollout watch "
                      << text_of(rollouts->getObject(0), "id") << "\n";
        return 0;
    }
    throw UsageError("unknown release subcommand \"" + sub + "\"");
}

}  // namespace ferry::ctl
