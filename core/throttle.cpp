#include "ferry/throttle.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <thread>

#include "ferry/error.h"

namespace ferry {

namespace {

constexpr auto kLongestSleep = std::chrono::milliseconds(100);  // rate changes and cancels act

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return {};
    const auto last = text.find_last_not_of(" \t");
    return text.substr(first, last - first + 1);
}

// "2026-12-01T22:00Z" → unix seconds (UTC).
std::int64_t parse_start(const std::string& text) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%MZ", &tm);
    if (end == nullptr || *end != '\0')
        throw Error(ErrorCode::InvalidInput,
                    "start \"" + text.substr(0, 40) + "\": expected YYYY-MM-DDTHH:MMZ (UTC)");
    return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace

TokenBucket::TokenBucket(double bytes_per_second, double burst_bytes, Clock clock, Sleeper sleeper)
    : rate_(bytes_per_second),
      burst_(burst_bytes),
      tokens_(burst_bytes),
      clock_(clock ? std::move(clock) : [] { return std::chrono::steady_clock::now(); }),
      sleeper_(sleeper ? std::move(sleeper)
                       : [](std::chrono::nanoseconds d) { std::this_thread::sleep_for(d); }) {
    last_ = clock_();
}

void TokenBucket::refill(std::chrono::steady_clock::time_point now) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    if (std::isinf(rate_) || rate_ <= 0) return;
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
}

bool TokenBucket::acquire(std::uint64_t bytes, const std::atomic<bool>* cancel) {
    std::unique_lock<std::mutex> lock(mutex_);
    refill(clock_());
    if (std::isinf(rate_)) return true;
    // Paused: wait (in slices) for a rate, then take the bytes like anyone else.
    while (rate_ <= 0) {
        if (cancel && cancel->load()) return false;
        lock.unlock();
        sleeper_(kLongestSleep);
        lock.lock();
        refill(clock_());
        if (std::isinf(rate_)) return true;
    }
    tokens_ -= static_cast<double>(bytes);
    while (tokens_ < 0) {
        if (cancel && cancel->load()) return false;
        if (std::isinf(rate_)) {
            tokens_ = burst_;
            return true;
        }
        const double rate = rate_ > 0 ? rate_ : 1;  // paused while in debt: wait in slices
        const auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::duration<double>(-tokens_ / rate));
        lock.unlock();
        sleeper_(std::min<std::chrono::nanoseconds>(wait, kLongestSleep));
        lock.lock();
        refill(clock_());
    }
    return true;
}

void TokenBucket::set_rate(double bytes_per_second) {
    std::lock_guard<std::mutex> guard(mutex_);
    refill(clock_());
    rate_ = bytes_per_second;
}

double TokenBucket::rate() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return rate_;
}

double parse_rate(const std::string& raw) {
    const std::string text = trim(raw);
    if (text == "unlimited") return kUnlimited;
    if (text == "paused") return 0;
    std::size_t used = 0;
    double value = 0;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    const std::string unit = trim(text.substr(used));
    const double scale = unit == "B/s"     ? 1
                         : unit == "KiB/s" ? 1024
                         : unit == "MiB/s" ? 1024.0 * 1024
                         : unit == "GiB/s" ? 1024.0 * 1024 * 1024
                                           : 0;
    if (used == 0 || scale == 0 || !(value > 0) || value * scale > 1e15)
        throw Error(ErrorCode::InvalidInput,
                    "rate \"" + text.substr(0, 40) +
                        "\": expected unlimited, paused or a number with B/s, KiB/s, MiB/s or "
                        "GiB/s (e.g. 2MiB/s)");
    return value * scale;
}

std::string rate_text(double rate) {
    if (std::isinf(rate)) return "unlimited";
    if (rate <= 0) return "paused";
    char text[32];
    if (rate >= 1024.0 * 1024)
        std::snprintf(text, sizeof text, "%.1f MiB/s", rate / (1024.0 * 1024));
    else if (rate >= 1024)
        std::snprintf(text, sizeof text, "%.1f KiB/s", rate / 1024);
    else
        std::snprintf(text, sizeof text, "%.0f B/s", rate);
    return text;
}

RateSchedule RateSchedule::parse(const std::string& text) {
    RateSchedule schedule;
    schedule.text_ = text;
    std::size_t start = 0;
    int number = 0;
    while (start <= text.size()) {
        const auto end = text.find(';', start);
        const std::string rule =
            trim(text.substr(start, end == std::string::npos ? end : end - start));
        start = end == std::string::npos ? text.size() + 1 : end + 1;
        if (rule.empty()) continue;
        ++number;
        try {
            if (rule.rfind("start ", 0) == 0) {
                schedule.start_ = parse_start(trim(rule.substr(6)));
                continue;
            }
            const auto space = rule.rfind(' ');
            if (space == std::string::npos)
                throw Error(ErrorCode::InvalidInput,
                            "expected DAYS HH:MM-HH:MM RATE or default RATE");
            const double rate = parse_rate(rule.substr(space + 1));
            const std::string when = trim(rule.substr(0, space));
            if (when == "default")
                schedule.default_rate_ = rate;
            else
                schedule.rules_.push_back({MaintenanceWindow::parse(when), rate});
        } catch (const Error& e) {
            throw Error(ErrorCode::InvalidInput, "schedule rule " + std::to_string(number) + " \"" +
                                                     rule.substr(0, 60) + "\": " + e.what());
        }
    }
    return schedule;
}

double RateSchedule::rate_at(std::int64_t unix_time) const {
    if (unix_time < start_) return 0;
    for (const auto& rule : rules_)
        if (rule.window.contains(unix_time)) return rule.rate;
    return default_rate_;
}

}  // namespace ferry
