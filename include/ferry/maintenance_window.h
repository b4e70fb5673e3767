// MaintenanceWindow: when a mandatory advertisement may install by itself (DESIGN §7). The one
// grammar of window specs: the site checks advertisements with it, the agent evaluates them.
//
//   SPEC  = DAYS " " HH:MM "-" HH:MM        exactly one space, 24-hour clock, HH 00-23, MM 00-59
//   DAYS  = "daily"
//         | DAY                              Mon Tue Wed Thu Fri Sat Sun (case as written)
//         | DAY "-" DAY                      a range, counted forward: Mon-Fri; Fri-Mon wraps
//                                            through the weekend (Fri,Sat,Sun,Mon); Mon-Mon = Mon
//         | DAY "," DAY ...                  a list: Sat,Sun (ranges cannot appear in a list)
//
// The opening and closing times must differ. A window whose closing time is not after its
// opening time crosses midnight: "Mon-Fri 22:00-06:00" opens Monday 22:00 and closes Tuesday
// 06:00, …, opens Friday 22:00 and closes Saturday 06:00 — the days name the day it OPENS.
// A window is the half-open interval [open, close): inside at 22:00, outside again at 06:00.
//
// Time zone: windows are wall-clock times of the machine that evaluates them, i.e. the agent's
// local time zone (localtime_r and mktime, honouring TZ), so "22:00" means 22:00 where the
// workstation is. Around daylight-saving changes the library's mktime decides what a wall time
// that does not exist (spring forward) or exists twice (fall back) means; an occurrence that
// comes out empty or reversed is skipped. Every search looks at most 14 days ahead, so no time
// zone rule can make it loop.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace ferry {

class MaintenanceWindow {
  public:
    // Error(InvalidInput) whose message starts with the quoted spec (its first 60 characters)
    // and says what is wrong: `"Mon 25:00-26:00": "25:00" is not a time of day (00:00-23:59)`.
    // Callers add the field: `field "windows": "…": …`.
    static MaintenanceWindow parse(const std::string& spec);

    // The three queries throw Error(InvalidInput) only for a time localtime_r cannot represent.
    // True when unix_time lies inside an occurrence of the window.
    bool contains(std::int64_t unix_time) const;
    // unix_time itself when inside; otherwise the next time the window opens (within a week,
    // unless a daylight-saving change swallowed that occurrence; INT64_MAX if none in 14 days).
    std::int64_t next_open(std::int64_t unix_time) const;
    // When the occurrence containing unix_time closes; unix_time itself when it is outside.
    std::int64_t close_after(std::int64_t unix_time) const;

    const std::string& spec() const { return spec_; }

  private:
    MaintenanceWindow() = default;  // only parse() makes one

    struct Occurrence {
        std::int64_t open = 0;
        std::int64_t close = 0;
    };
    // The occurrence that opens `day_offset` days after the local calendar day `day`; false
    // when the window does not open that weekday or the time zone makes it empty.
    bool occurrence(const std::tm& day, int day_offset, Occurrence& out) const;
    // The occurrence containing unix_time, if any.
    bool occurrence_containing(std::int64_t unix_time, Occurrence& out) const;

    std::string spec_;
    std::array<bool, 7> opens_on_{};  // indexed like tm_wday: 0 = Sunday … 6 = Saturday
    int open_minute_ = 0;             // minutes after local midnight
    int close_minute_ = 0;            // on the next day when not after open_minute_
};

// True when any of the windows contains t (false for none: the caller decides what "no windows"
// means — for an advertisement, no restriction).
bool any_window_contains(const std::vector<MaintenanceWindow>& windows, std::int64_t t);
// The earliest next_open() over the windows: t when one contains t; INT64_MAX for none.
std::int64_t next_window_open(const std::vector<MaintenanceWindow>& windows, std::int64_t t);

}  // namespace ferry
