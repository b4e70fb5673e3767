// ferryctl changelog [--since T] [--json]: the append-only change log, oldest first.
#include <Poco/JSON/Array.h>

#include <ctime>
#include <iostream>

#include "ferryctl_common.h"

namespace ferry::ctl {
namespace {

// "2026-11-26T16:00:00Z", or a plain number of unix seconds.
std::int64_t parse_since(const std::string& text) {
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
        text.size() < 19)
        return std::stoll(text);
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == nullptr || *end != '\0') {
        tm = {};
        end = strptime(text.c_str(), "%Y-%m-%d", &tm);
        if (end == nullptr || *end != '\0')
            throw UsageError("--since takes YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix seconds");
    }
    return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace

int changelog_command(const ApiClient& api, int argc, char** argv, int first) {
    const CommandLine args(argc, argv, first, {{"--since", "", true}, {"--json", "", false}}, 0);
    if (args.help()) return 0;
    const std::int64_t since = args.value("--since") ? parse_since(*args.value("--since")) : 0;
    Poco::JSON::Array all;
    std::int64_t after = 0;
    for (;;) {
        const auto page = api.get("/api/v1/changelog?since=" + std::to_string(since) +
                                  "&after=" + std::to_string(after) + "&limit=1000");
        const auto entries = page->getArray("entries");
        for (std::size_t i = 0; i < entries->size(); ++i) all.add(entries->get(i));
        if (entries->size() < 1000) break;
        after = page->getValue<std::int64_t>("next_after");
    }
    if (args.flag("--json")) {
        Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
        out->set("entries", all);
        std::cout << json_text(out);
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto e = all.getObject(static_cast<unsigned>(i));
        const std::string before = text_of(e, "before");
        rows.push_back({utc_time(text_of(e, "at")), text_of(e, "actor"), text_of(e, "action"),
                        text_of(e, "subject"),
                        (before.empty() ? "" : before + " -> ") + text_of(e, "after")});
    }
    print_table({"WHEN", "WHO", "ACTION", "SUBJECT", "CHANGE"}, rows);
    return 0;
}

}  // namespace ferry::ctl
