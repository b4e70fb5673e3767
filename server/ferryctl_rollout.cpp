// ferryctl rollout …: an advertisement in waves — create, list, show (progress bars), halt,
// resume, cancel, advance, and watch it live.
#include <Poco/JSON/Array.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <thread>

#include "ferryctl_common.h"

namespace ferry::ctl {
namespace {

std::string rollout_path(const std::string& id) { return "/api/v1/rollouts/" + segment(id); }

std::int64_t number_of(const Poco::JSON::Object::Ptr& o, const std::string& field) {
    return o->has(field) ? o->getValue<Poco::Int64>(field) : 0;
}

std::string wave_target(const Poco::JSON::Object::Ptr& w) {
    const std::string target =
        w->has("collection") ? text_of(w, "collection") : text_of(w, "percent") + "%";
    return target + (w->getValue<bool>("pilot") ? " (pilot)" : "");
}

void print_rollout(const Poco::JSON::Object::Ptr& r) {
    std::cout << text_of(r, "id") << "  " << text_of(r, "state") << "  " << text_of(r, "package")
              << " " << text_of(r, "action") << " on " << text_of(r, "collection") << " ("
              << text_of(r, "advertisement") << ", " << text_of(r, "release") << ")\n"
              << "thresholds: success " << text_of(r, "success_threshold") << "%, error "
              << text_of(r, "error_threshold") << "%; "
              << (r->getValue<bool>("sign_off") ? "each wave waits for a sign-off"
                                                : "advances by itself")
              << "\n";
    if (r->has("reason")) std::cout << "now: " << text_of(r, "reason") << "\n";
    std::vector<std::vector<std::string>> rows;
    const auto waves = r->getArray("waves");
    for (std::size_t i = 0; i < waves->size(); ++i) {
        const auto w = waves->getObject(static_cast<unsigned>(i));
        rows.push_back({text_of(w, "number"), wave_target(w), text_of(w, "state"),
                        progress_bar(number_of(w, "members"), number_of(w, "succeeded"),
                                     number_of(w, "failed"), number_of(w, "in_progress")),
                        text_of(w, "members"), text_of(w, "succeeded"), text_of(w, "failed"),
                        text_of(w, "in_progress"), text_of(w, "not_reported")});
    }
    const auto t = r->getObject("totals");
    rows.push_back({"all", "", "",
                    progress_bar(number_of(t, "members"), number_of(t, "succeeded"),
                                 number_of(t, "failed"), number_of(t, "in_progress")),
                    text_of(t, "members"), text_of(t, "succeeded"), text_of(t, "failed"),
                    text_of(t, "in_progress"), text_of(t, "not_reported")});
    print_table({"WAVE", "TARGET", "STATE", "PROGRESS (# ok, x failed, + busy)", "CLIENTS", "OK",
                 "FAILED", "BUSY", "WAITING"},
                rows);
}

std::string hhmmss(std::int64_t at) {
    const std::time_t t = static_cast<std::time_t>(at);
    char text[24];
    std::strftime(text, sizeof text, "%m-%d %H:%M:%SZ", std::gmtime(&t));
    return text;
}

std::string last_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    const auto nl = text.rfind('\n');
    return (nl == std::string::npos ? text : text.substr(nl + 1)).substr(0, 70);
}

void print_report(const Poco::JSON::Object::Ptr& report) {
    print_rollout(report->getObject("rollout"));
    std::cout << "\nstates per wave\n";
    std::vector<std::vector<std::string>> rows;
    const auto waves = report->getArray("waves");
    for (std::size_t i = 0; i < waves->size(); ++i) {
        const auto w = waves->getObject(static_cast<unsigned>(i));
        std::string states;
        for (const auto& [state, count] : *w->getObject("states"))
            states += (states.empty() ? "" : ", ") + state + " " + count.convert<std::string>();
        rows.push_back({text_of(w, "number"), states.empty() ? "-" : states});
    }
    print_table({"WAVE", "STATES"}, rows);
    const auto failures = report->getArray("failures");
    std::cout << "\nfailures by exit code\n";
    rows.clear();
    for (std::size_t i = 0; i < failures->size(); ++i) {
        const auto f = failures->getObject(static_cast<unsigned>(i));
        std::string hosts;
        const auto names = f->getArray("hostnames");
        for (std::size_t j = 0; j < names->size(); ++j)
            hosts += (j ? "," : "") + names->getElement<std::string>(static_cast<unsigned>(j));
        rows.push_back({text_of(f, "state"), f->has("exit_code") ? text_of(f, "exit_code") : "-",
                        text_of(f, "clients"), last_line(text_of(f, "log_tail")), hosts});
    }
    if (rows.empty())
        std::cout << "  none\n";
    else
        print_table({"STATE", "EXIT", "CLIENTS", "LAST LOG LINE", "HOSTS"}, rows);
    const auto dps = report->getArray("dps");
    if (dps->size() > 0) {
        std::cout << "\ndistribution points\n";
        rows.clear();
        for (std::size_t i = 0; i < dps->size(); ++i) {
            const auto d = dps->getObject(static_cast<unsigned>(i));
            const auto c = d->getObject("clients");
            rows.push_back({text_of(d, "name"),
                            d->has("last_seen_at") ? hhmmss(number_of(d, "last_seen_at")) : "never",
                            d->has("lag") ? text_of(d, "lag") + " s" : "-",
                            d->getValue<bool>("synced_since_created") ? "yes" : "not yet",
                            progress_bar(number_of(c, "members"), number_of(c, "succeeded"),
                                         number_of(c, "failed"), number_of(c, "in_progress"), 20),
                            text_of(c, "members")});
        }
        print_table(
            {"DP", "LAST CONTACT", "LAG", "SYNCED SINCE THE ADVERTISEMENT", "PROGRESS", "CLIENTS"},
            rows);
    }
    const auto history = report->getArray("history");
    std::cout << "\nprogress over time (all waves)\n";
    rows.clear();
    const std::size_t first = history->size() > 15 ? history->size() - 15 : 0;
    for (std::size_t i = first; i < history->size(); ++i) {
        const auto h = history->getObject(static_cast<unsigned>(i));
        std::int64_t members = 0, ok = 0, failed = 0, busy = 0;
        const auto ws = h->getArray("waves");
        for (std::size_t j = 0; j < ws->size(); ++j) {
            const auto w = ws->getObject(static_cast<unsigned>(j));
            members += number_of(w, "members");
            ok += number_of(w, "succeeded");
            failed += number_of(w, "failed");
            busy += number_of(w, "in_progress");
        }
        rows.push_back({hhmmss(number_of(h, "at")), progress_bar(members, ok, failed, busy),
                        std::to_string(ok), std::to_string(failed), std::to_string(busy),
                        std::to_string(members)});
    }
    if (rows.empty())
        std::cout << "  nothing yet\n";
    else
        print_table({"AT (UTC)", "PROGRESS", "OK", "FAILED", "BUSY", "CLIENTS"}, rows);
}

// One line for watch: the time, the state, the current wave and the totals.
std::string watch_line(const Poco::JSON::Object::Ptr& r) {
    const auto t = r->getObject("totals");
    std::string line = text_of(r, "state") + ", wave " + text_of(r, "current_wave") + "/" +
                       std::to_string(r->getArray("waves")->size()) + " " +
                       progress_bar(number_of(t, "members"), number_of(t, "succeeded"),
                                    number_of(t, "failed"), number_of(t, "in_progress")) +
                       " " + text_of(t, "succeeded") + " ok, " + text_of(t, "failed") +
                       " failed, " + text_of(t, "in_progress") + " busy, " +
                       text_of(t, "not_reported") + " waiting of " + text_of(t, "members");
    if (r->has("reason")) line += " — " + text_of(r, "reason");
    return line;
}

long long seconds_option(const CommandLine& args, const std::string& option, long long fallback) {
    const auto value = args.value(option);
    if (!value) return fallback;
    if (value->empty() || value->size() > 7 ||
        value->find_first_not_of("0123456789") != std::string::npos || std::stoll(*value) == 0)
        throw UsageError(option + " takes a number of seconds");
    return std::stoll(*value);
}

int watch(const ApiClient& api, const CommandLine& args) {
    const long long interval = seconds_option(args, "--interval", 2);
    const auto timeout = args.value("--timeout");
    const auto give_up = std::chrono::steady_clock::now() +
                         std::chrono::seconds(seconds_option(args, "--timeout", 1LL << 40));
    std::string last;
    for (;;) {
        const auto r = api.get(rollout_path(args.positional()[0]));
        const std::string line = watch_line(r);
        if (line != last) {
            const std::time_t now = std::time(nullptr);
            char stamp[16];
            std::strftime(stamp, sizeof stamp, "%H:%M:%SZ", std::gmtime(&now));
            std::cout << stamp << "  " << text_of(r, "id") << " " << line << std::endl;
            last = line;
        }
        const std::string state = text_of(r, "state");
        if (state == "completed") return 0;
        if (state == "halted" || state == "cancelled") return 1;
        if (std::chrono::steady_clock::now() >= give_up) {
            std::cerr << "ferryctl: " << text_of(r, "id") << " is still " << state << " after "
                      << *timeout << " s\n";
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::seconds(interval));
    }
}

}  // namespace

std::vector<OptionSpec> rollout_plan_options() {
    return {{"--waves", "", true},
            {"--success", "", true},
            {"--error", "", true},
            {"--sign-off", "", false}};
}

void set_rollout_plan(Poco::JSON::Object& request, const CommandLine& args) {
    if (auto spec = args.value("--waves")) {
        Poco::JSON::Array waves;
        for (const auto& wave : split_commas(*spec)) waves.add(wave);
        request.set("waves", waves);
    }
    for (const auto& [option, field] :
         {std::pair<const char*, const char*>{"--success", "success_threshold"},
          {"--error", "error_threshold"}}) {
        const auto value = args.value(option);
        if (!value) continue;
        if (value->empty() || value->size() > 3 ||
            value->find_first_not_of("0123456789") != std::string::npos)
            throw UsageError(std::string(option) + " takes a percentage, 0 to 100");
        request.set(field, std::stoi(*value));
    }
    if (args.flag("--sign-off")) request.set("sign_off", true);
}

int rollout_command(const ApiClient& api, int argc, char** argv, int first) {
    if (first >= argc)
        throw UsageError(
            "rollout needs a subcommand: create, list, show, report, halt, resume, cancel, "
            "advance or watch");
    const std::string sub = argv[first];
    if (sub == "create") {
        auto options = advertisement_options();
        const auto plan_options = rollout_plan_options();
        options.insert(options.end(), plan_options.begin(), plan_options.end());
        const CommandLine args(argc, argv, first + 1, options, 1);
        Poco::JSON::Object request = advertisement_request(args);
        set_rollout_plan(request, args);
        const auto answer = api.post("/api/v1/rollouts", body_of(request));
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        print_rollout(answer);
        return 0;
    }
    if (sub == "list") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 0);
        const auto answer = api.get("/api/v1/rollouts");
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        std::vector<std::vector<std::string>> rows;
        const auto list = answer->getArray("rollouts");
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto r = list->getObject(static_cast<unsigned>(i));
            const auto t = r->getObject("totals");
            rows.push_back(
                {text_of(r, "id"), text_of(r, "state"), text_of(r, "package"),
                 text_of(r, "collection"), text_of(r, "release"),
                 text_of(r, "current_wave") + "/" + std::to_string(r->getArray("waves")->size()),
                 progress_bar(number_of(t, "members"), number_of(t, "succeeded"),
                              number_of(t, "failed"), number_of(t, "in_progress"), 20)});
        }
        print_table({"ID", "STATE", "PACKAGE", "COLLECTION", "RELEASE", "WAVE", "PROGRESS"}, rows);
        return 0;
    }
    if (sub == "show") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 1);
        const auto answer = api.get(rollout_path(args.positional()[0]));
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        print_rollout(answer);
        return 0;
    }
    if (sub == "halt" || sub == "resume" || sub == "cancel" || sub == "advance") {
        const CommandLine args(argc, argv, first + 1,
                               {{"--reason", "", true}, {"--json", "", false}}, 1);
        Poco::JSON::Object request;
        request.set("reason", args.value("--reason").value_or(""));
        const auto answer =
            api.post(rollout_path(args.positional()[0]) + "/" + sub, body_of(request));
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        print_rollout(answer);
        return 0;
    }
    if (sub == "report") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 1);
        const auto answer = api.get(rollout_path(args.positional()[0]) + "/report");
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        print_report(answer);
        return 0;
    }
    if (sub == "watch") {
        const CommandLine args(argc, argv, first + 1,
                               {{"--interval", "", true}, {"--timeout", "", true}}, 1);
        return watch(api, args);
    }
    throw UsageError("unknown rollout subcommand \"" + sub + "\"");
}

}  // namespace ferry::ctl
