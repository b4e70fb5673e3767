// Throttling shared by every use (DESIGN §9): a token bucket, and the weekly schedule of rates a
// distribution point replicates under.
//
// TokenBucket lets bytes through at a rate with a burst: acquire(n) takes n tokens, going into
// debt when there are not enough, and sleeps until the debt is paid, so a long transfer runs at
// the rate whatever its chunk size, and concurrent callers are served in the order they came
// (the lock orders them). A rate of kUnlimited never waits; a rate of 0 pauses every caller
// until the rate changes or the caller is cancelled.
//
// RateSchedule is text such as
//     Mon-Fri 08:00-18:00 2MiB/s; Sat,Sun 10:00-16:00 paused; default unlimited
// rules separated by ';', each `DAYS HH:MM-HH:MM RATE` (DAYS and times as maintenance windows:
// include/ferry/maintenance_window.h, in local time, may cross midnight) or `default RATE`;
// the first rule whose window holds the moment decides, else the default (unlimited when none
// is given). RATE is `unlimited`, `paused`, or a number with B/s, KiB/s, MiB/s or GiB/s.
// A rule `start YYYY-MM-DDTHH:MMZ` holds everything back (paused) until that moment: content
// distribution scheduled to begin at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "ferry/maintenance_window.h"

namespace ferry {

constexpr double kUnlimited = std::numeric_limits<double>::infinity();

class TokenBucket {
  public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    using Sleeper = std::function<void(std::chrono::nanoseconds)>;

    explicit TokenBucket(double bytes_per_second = kUnlimited, double burst_bytes = 64 * 1024,
                         Clock clock = nullptr, Sleeper sleeper = nullptr);

    // Blocks until `bytes` may pass. False when `cancel` became true while waiting.
    bool acquire(std::uint64_t bytes, const std::atomic<bool>* cancel = nullptr);
    void set_rate(double bytes_per_second);
    double rate() const;

  private:
    void refill(std::chrono::steady_clock::time_point now);

    mutable std::mutex mutex_;
    double rate_;
    double burst_;
    double tokens_;
    std::chrono::steady_clock::time_point last_;
    Clock clock_;
    Sleeper sleeper_;
};

class RateSchedule {
  public:
    // Error(InvalidInput) naming the rule (by number and text) and what is wrong. Empty text:
    // always unlimited.
    static RateSchedule parse(const std::string& text);
    // Bytes per second at `unix_time` (kUnlimited, 0 for paused, or the rate).
    double rate_at(std::int64_t unix_time) const;
    const std::string& text() const { return text_; }

  private:
    struct Rule {
        MaintenanceWindow window;
        double rate;
    };
    std::vector<Rule> rules_;
    double default_rate_ = kUnlimited;
    std::int64_t start_ = 0;  // paused before this moment (unix seconds), 0: no start
    std::string text_;
};

// "2MiB/s" → 2097152, "unlimited" → kUnlimited, "paused" → 0. Error(InvalidInput) otherwise.
double parse_rate(const std::string& text);
// "2.0 MiB/s", "unlimited", "paused".
std::string rate_text(double bytes_per_second);

}  // namespace ferry
