// ferryctl collection …, advertise …, advertisement …: who gets what, when, and how it went.
#include <Poco/JSON/Array.h>

#include <ctime>
#include <iostream>

#include "ferryctl_common.h"

namespace ferry::ctl {
namespace {

Poco::JSON::Array array_of(const std::vector<std::string>& items) {
    Poco::JSON::Array list;
    for (const auto& item : items) list.add(item);
    return list;
}

std::string joined(const Poco::JSON::Array::Ptr& list) {
    std::string out;
    for (std::size_t i = 0; list && i < list->size(); ++i)
        out += (i ? ", " : "") + list->getElement<std::string>(static_cast<unsigned>(i));
    return out;
}

// "now", unix seconds, "YYYY-MM-DDTHH:MM[:SS]Z" or "+2h"/"+30m"/"+1d" from now.
std::int64_t parse_time(const std::string& text, const std::string& option) {
    const std::int64_t now = static_cast<std::int64_t>(::time(nullptr));
    if (text == "now") return now;
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
        text.size() < 15)
        return std::stoll(text);
    if (text.size() >= 3 && text[0] == '+') {
        const std::string digits = text.substr(1, text.size() - 2);
        const char unit = text.back();
        const std::int64_t scale = unit == 'd' ? 86400 : unit == 'h' ? 3600 : unit == 'm' ? 60 : 0;
        if (scale && !digits.empty() && digits.size() < 8 &&
            digits.find_first_not_of("0123456789") == std::string::npos)
            return now + std::stoll(digits) * scale;
    }
    for (const char* format : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ"}) {
        std::tm tm{};
        const char* end = strptime(text.c_str(), format, &tm);
        if (end != nullptr && *end == '\0') return static_cast<std::int64_t>(timegm(&tm));
    }
    throw UsageError(option + " takes now, +2h, +1d, YYYY-MM-DDTHH:MMZ or unix seconds");
}

int number_option(const CommandLine& args, const std::string& option) {
    const auto value = args.value(option);
    if (!value) return 0;
    if (value->empty() || value->size() > 6 ||
        value->find_first_not_of("0123456789") != std::string::npos)
        throw UsageError(option + " must be a number");
    return std::stoi(*value);
}

void print_collection(const Poco::JSON::Object::Ptr& c) {
    std::cout << text_of(c, "name") << "  " << (c->getValue<bool>("pilot") ? "pilot" : "production")
              << "  " << text_of(c, "member_count") << " member(s)\n";
    if (!text_of(c, "description").empty()) std::cout << "  " << text_of(c, "description") << "\n";
    if (c->has("query")) std::cout << "  query: " << text_of(c, "query") << "\n";
    const auto members = c->getArray("members");
    if (members && members->size() > 0) std::cout << "  static: " << joined(members) << "\n";
    const auto include = c->getArray("include");
    if (include && include->size() > 0) std::cout << "  include: " << joined(include) << "\n";
    const auto exclude = c->getArray("exclude");
    if (exclude && exclude->size() > 0) std::cout << "  exclude: " << joined(exclude) << "\n";
}

void print_advertisement(const Poco::JSON::Object::Ptr& a) {
    std::cout << text_of(a, "id") << "  " << text_of(a, "state") << "  " << text_of(a, "action")
              << " " << text_of(a, "package") << " on " << text_of(a, "collection") << " ("
              << text_of(a, "release") << ")\n"
              << "  available " << utc_time(text_of(a, "available_at"))
              << (a->has("deadline") ? ", deadline " + utc_time(text_of(a, "deadline")) : "")
              << (a->getValue<bool>("mandatory") ? ", mandatory" : ", optional")
              << ", postpone up to " << text_of(a, "postpone_max") << " time(s)\n";
    const auto windows = a->getArray("windows");
    if (windows && windows->size() > 0) std::cout << "  windows: " << joined(windows) << "\n";
}

std::string advertisement_path(const std::string& id) {
    return "/api/v1/advertisements/" + segment(id);
}

}  // namespace

int collection_command(const ApiClient& api, int argc, char** argv, int first) {
    if (first >= argc)
        throw UsageError("collection needs a subcommand: create, list, show, members or preview");
    const std::string sub = argv[first];
    if (sub == "create" || sub == "update") {
        const CommandLine args(argc, argv, first + 1,
                               {{"--query", "", true},
                                {"--members", "", true},
                                {"--include", "", true},
                                {"--exclude", "", true},
                                {"--description", "", true},
                                {"--pilot", "", false},
                                {"--json", "", false}},
                               1);
        Poco::JSON::Object request;
        request.set("name", args.positional()[0]);
        if (auto query = args.value("--query")) request.set("query", *query);
        if (auto d = args.value("--description")) request.set("description", *d);
        request.set("members", array_of(split_commas(args.value("--members").value_or(""))));
        request.set("include", array_of(split_commas(args.value("--include").value_or(""))));
        request.set("exclude", array_of(split_commas(args.value("--exclude").value_or(""))));
        request.set("pilot", args.flag("--pilot"));
        const auto answer =
            api.post(sub == "create" ? "/api/v1/collections"
                                     : "/api/v1/collections/" + segment(args.positional()[0]),
                     body_of(request));
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        print_collection(answer);
        return 0;
    }
    if (sub == "list") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 0);
        const auto answer = api.get("/api/v1/collections");
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        std::vector<std::vector<std::string>> rows;
        const auto list = answer->getArray("collections");
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto c = list->getObject(static_cast<unsigned>(i));
            rows.push_back({text_of(c, "name"), c->getValue<bool>("pilot") ? "pilot" : "production",
                            text_of(c, "member_count"),
                            c->has("query") ? text_of(c, "query") : "(static)"});
        }
        print_table({"NAME", "KIND", "MEMBERS", "QUERY"}, rows);
        return 0;
    }
    if (sub == "show" || sub == "members") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 1);
        const std::string path = "/api/v1/collections/" + segment(args.positional()[0]);
        const auto answer = api.get(sub == "members" ? path + "/members" : path);
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        if (sub == "show") {
            print_collection(answer);
        } else {
            const auto members = answer->getArray("members");
            for (std::size_t i = 0; i < members->size(); ++i)
                std::cout << members->getElement<std::string>(static_cast<unsigned>(i)) << "\n";
        }
        return 0;
    }
    if (sub == "preview") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 1);
        Poco::JSON::Object request;
        request.set("query", args.positional()[0]);
        const auto answer = api.post("/api/v1/collections/preview", body_of(request));
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        if (!answer->getValue<bool>("valid")) {
            const std::string query = args.positional()[0];
            const int column = answer->getValue<int>("column");
            std::cerr << text_of(answer, "error") << "\n  " << query << "\n";
            if (column > 0) std::cerr << "  " << std::string(column - 1, ' ') << "^\n";
            return 2;
        }
        std::cout << text_of(answer, "count") << " client(s) match";
        const auto members = answer->getArray("members");
        if (members->size() > 0) std::cout << ": " << joined(members);
        std::cout << "\n";
        return 0;
    }
    throw UsageError("unknown collection subcommand \"" + sub + "\"");
}

std::vector<OptionSpec> advertisement_options() {
    return {{"--collection", "", true},   {"--release", "", true},
            {"--action", "", true},       {"--available", "", true},
            {"--deadline", "", true},     {"--mandatory", "", false},
            {"--postpone-max", "", true}, {"--postpone-delay", "", true},
            {"--window", "", true},       {"--json", "", false}};
}

Poco::JSON::Object advertisement_request(const CommandLine& args) {
    Poco::JSON::Object request;
    request.set("package", args.positional()[0]);
    request.set("collection", args.required("--collection"));
    if (auto release = args.value("--release")) request.set("release", *release);
    if (auto action = args.value("--action")) request.set("action", *action);
    if (auto at = args.value("--available"))
        request.set("available_at", parse_time(*at, "--available"));
    if (auto at = args.value("--deadline")) request.set("deadline", parse_time(*at, "--deadline"));
    request.set("mandatory", args.flag("--mandatory"));
    request.set("postpone_max", number_option(args, "--postpone-max"));
    request.set("postpone_max_delay", number_option(args, "--postpone-delay") * 3600);
    // Several windows are separated by ';' ("Mon-Fri 22:00-06:00;Sat,Sun 00:00-23:59").
    std::vector<std::string> windows;
    if (auto spec = args.value("--window")) {
        std::string rest = *spec;
        for (std::size_t semi; (semi = rest.find(';')) != std::string::npos;
             rest = rest.substr(semi + 1))
            windows.push_back(rest.substr(0, semi));
        if (!rest.empty()) windows.push_back(rest);
    }
    request.set("windows", array_of(windows));
    return request;
}

int advertise_command(const ApiClient& api, int argc, char** argv, int first) {
    const CommandLine args(argc, argv, first, advertisement_options(), 1);
    const auto answer = api.post("/api/v1/advertisements", body_of(advertisement_request(args)));
    if (args.flag("--json")) return std::cout << json_text(answer), 0;
    print_advertisement(answer);
    return 0;
}

int advertisement_command(const ApiClient& api, int argc, char** argv, int first) {
    if (first >= argc)
        throw UsageError(
            "advertisement needs a subcommand: list, show, halt, resume, cancel or status");
    const std::string sub = argv[first];
    if (sub == "list") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 0);
        const auto answer = api.get("/api/v1/advertisements");
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        std::vector<std::vector<std::string>> rows;
        const auto list = answer->getArray("advertisements");
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto a = list->getObject(static_cast<unsigned>(i));
            rows.push_back({text_of(a, "id"), text_of(a, "state"), text_of(a, "action"),
                            text_of(a, "package"), text_of(a, "collection"),
                            text_of(a, "release")});
        }
        print_table({"ID", "STATE", "ACTION", "PACKAGE", "COLLECTION", "RELEASE"}, rows);
        return 0;
    }
    if (sub == "show") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 1);
        const auto answer = api.get(advertisement_path(args.positional()[0]));
        if (args.flag("--json")) return std::cout << json_text(answer), 0;
        print_advertisement(answer);
        return 0;
    }
    if (sub == "halt" || sub == "resume" || sub == "cancel") {
        const CommandLine args(argc, argv, first + 1, {{"--reason", "", true}}, 1);
        Poco::JSON::Object request;
        request.set("reason", args.value("--reason").value_or(""));
        print_advertisement(
            api.post(advertisement_path(args.positional()[0]) + "/" + sub, body_of(request)));
        return 0;
    }
    if (sub == "status") {
        const CommandLine args(argc, argv, first + 1, {{"--json", "", false}}, 1);
        const auto report = api.get(advertisement_path(args.positional()[0]) + "/status");
        if (args.flag("--json")) return std::cout << json_text(report), 0;
        std::cout << text_of(report, "advertisement") << ": " << text_of(report, "targeted")
                  << " client(s) targeted, " << text_of(report, "not_reported")
                  << " not reported yet\n";
        const auto counts = report->getObject("counts");
        for (const auto& [state, count] : *counts)
            std::cout << "  " << state << ": " << count.convert<std::string>() << "\n";
        std::vector<std::vector<std::string>> rows;
        const auto clients = report->getArray("clients");
        for (std::size_t i = 0; i < clients->size(); ++i) {
            const auto c = clients->getObject(static_cast<unsigned>(i));
            std::string tail = text_of(c, "log_tail");
            if (const auto nl = tail.rfind('\n', tail.size() > 1 ? tail.size() - 2 : 0);
                nl != std::string::npos)
                tail = tail.substr(nl + 1);
            rows.push_back({text_of(c, "client"), text_of(c, "hostname"), text_of(c, "state"),
                            text_of(c, "exit_code"), tail.substr(0, 60)});
        }
        if (!rows.empty())
            print_table({"CLIENT", "HOSTNAME", "STATE", "EXIT", "LAST LOG LINE"}, rows);
        return 0;
    }
    throw UsageError("unknown advertisement subcommand \"" + sub + "\"");
}

}  // namespace ferry::ctl
