#include "ferry/maintenance_window.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "ferry/error.h"

namespace ferry {
namespace {

// Spec order (Monday first), as people write ranges; index + 1 modulo 7 is tm_wday.
const std::array<const char*, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

constexpr const char* kGrammar = "expected DAYS HH:MM-HH:MM (DAYS: daily, Mon, Mon-Fri or Sat,Sun)";

// How far next_open() looks: a week covers every weekday; the second week only matters if a
// daylight-saving change emptied an occurrence.
constexpr int kSearchDays = 14;

[[noreturn]] void fail(const std::string& spec, const std::string& what) {
    throw Error(ErrorCode::InvalidInput, "\"" + spec.substr(0, 60) + "\": " + what);
}

// tm_wday of a day name; -1 when it is none.
int weekday(const std::string& name) {
    for (std::size_t i = 0; i < kDays.size(); ++i) {
        if (name == kDays[i]) return static_cast<int>((i + 1) % 7);
    }
    return -1;
}

int require_weekday(const std::string& spec, const std::string& name) {
    const int day = weekday(name);
    if (day < 0)
        fail(spec,
             "\"" + name.substr(0, 20) + "\" is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)");
    return day;
}

std::array<bool, 7> parse_days(const std::string& spec, const std::string& days) {
    std::array<bool, 7> opens{};
    if (days.empty()) fail(spec, kGrammar);
    if (days == "daily") {
        opens.fill(true);
        return opens;
    }
    if (days.find('-') != std::string::npos) {
        if (days.size() != 7 || days[3] != '-')
            fail(spec, "\"" + days.substr(0, 20) + "\" is not a range of two days like Mon-Fri");
        // Counted forward from the first day, so Fri-Mon wraps through the weekend.
        const int first = require_weekday(spec, days.substr(0, 3));
        const int last = require_weekday(spec, days.substr(4));
        for (int day = first;; day = (day + 1) % 7) {
            opens[day] = true;
            if (day == last) break;
        }
        return opens;
    }
    std::size_t start = 0;
    for (;;) {
        const auto comma = days.find(',', start);
        const std::string name =
            days.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (name.empty()) fail(spec, "a day is missing in \"" + days.substr(0, 30) + "\"");
        opens[require_weekday(spec, name)] = true;
        if (comma == std::string::npos) return opens;
        start = comma + 1;
    }
}

// "HH:MM" as minutes after midnight.
int parse_clock(const std::string& spec, const std::string& text) {
    const auto digit = [&](std::size_t i) {
        return std::isdigit(static_cast<unsigned char>(text[i])) != 0;
    };
    const bool shaped = digit(0) && digit(1) && text[2] == ':' && digit(3) && digit(4);
    const int hours = shaped ? (text[0] - '0') * 10 + (text[1] - '0') : 99;
    const int minutes = shaped ? (text[3] - '0') * 10 + (text[4] - '0') : 99;
    if (hours > 23 || minutes > 59)
        fail(spec, "\"" + text + "\" is not a time of day (00:00-23:59)");
    return hours * 60 + minutes;
}

std::tm local_day(std::int64_t unix_time) {
    const auto t = static_cast<std::time_t>(unix_time);
    std::tm local{};
    if (localtime_r(&t, &local) == nullptr)
        throw Error(ErrorCode::InvalidInput,
                    "time " + std::to_string(unix_time) + " is outside the calendar");
    return local;
}

// The instant of local wall time `minute` on the day `day_offset` days after `day`; mktime
// normalises the day of month across months and years and chooses the offset in force.
std::int64_t local_instant(const std::tm& day, int day_offset, int minute) {
    std::tm wall{};
    wall.tm_year = day.tm_year;
    wall.tm_mon = day.tm_mon;
    wall.tm_mday = day.tm_mday + day_offset;
    wall.tm_hour = minute / 60;
    wall.tm_min = minute % 60;
    wall.tm_isdst = -1;  // let the zone rules decide, not the day we started from
    return static_cast<std::int64_t>(std::mktime(&wall));
}

}  // namespace

MaintenanceWindow MaintenanceWindow::parse(const std::string& spec) {
    const auto space = spec.find(' ');
    if (space == std::string::npos) fail(spec, kGrammar);
    MaintenanceWindow window;
    window.spec_ = spec;
    window.opens_on_ = parse_days(spec, spec.substr(0, space));
    const std::string times = spec.substr(space + 1);
    if (times.size() != 11 || times[5] != '-')
        fail(spec, "\"" + times.substr(0, 20) + "\" is not HH:MM-HH:MM");
    window.open_minute_ = parse_clock(spec, times.substr(0, 5));
    window.close_minute_ = parse_clock(spec, times.substr(6));
    if (window.open_minute_ == window.close_minute_)
        fail(spec, "it opens and closes at " + times.substr(0, 5) + ", so it would never be open");
    return window;
}

bool MaintenanceWindow::occurrence(const std::tm& day, int day_offset, Occurrence& out) const {
    if (!opens_on_[static_cast<std::size_t>(((day.tm_wday + day_offset) % 7 + 7) % 7)])
        return false;
    const bool crosses_midnight = close_minute_ < open_minute_;
    out.open = local_instant(day, day_offset, open_minute_);
    out.close = local_instant(day, day_offset + (crosses_midnight ? 1 : 0), close_minute_);
    // A daylight-saving jump can swallow a short window; such an occurrence does not exist.
    return out.close > out.open;
}

bool MaintenanceWindow::occurrence_containing(std::int64_t unix_time, Occurrence& out) const {
    const std::tm day = local_day(unix_time);
    // An occurrence lasts less than a day, so only today's and yesterday's (crossing midnight)
    // can contain the time.
    for (const int offset : {-1, 0}) {
        if (occurrence(day, offset, out) && out.open <= unix_time && unix_time < out.close)
            return true;
    }
    return false;
}

bool MaintenanceWindow::contains(std::int64_t unix_time) const {
    Occurrence found;
    return occurrence_containing(unix_time, found);
}

std::int64_t MaintenanceWindow::next_open(std::int64_t unix_time) const {
    Occurrence found;
    if (occurrence_containing(unix_time, found)) return unix_time;
    const std::tm day = local_day(unix_time);
    for (int offset = 0; offset <= kSearchDays; ++offset) {
        if (occurrence(day, offset, found) && found.open > unix_time) return found.open;
    }
    return std::numeric_limits<std::int64_t>::max();  // unreachable with sane zone rules
}

std::int64_t MaintenanceWindow::close_after(std::int64_t unix_time) const {
    Occurrence found;
    return occurrence_containing(unix_time, found) ? found.close : unix_time;
}

bool any_window_contains(const std::vector<MaintenanceWindow>& windows, std::int64_t t) {
    return std::any_of(windows.begin(), windows.end(),
                       [t](const MaintenanceWindow& window) { return window.contains(t); });
}

std::int64_t next_window_open(const std::vector<MaintenanceWindow>& windows, std::int64_t t) {
    std::int64_t earliest = std::numeric_limits<std::int64_t>::max();
    for (const auto& window : windows) earliest = std::min(earliest, window.next_open(t));
    return earliest;
}

}  // namespace ferry
