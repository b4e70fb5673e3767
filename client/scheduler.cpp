#include "scheduler.h"

#include <algorithm>
#include <ctime>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "ferry/error.h"
#include "ferry/maintenance_window.h"

namespace ferry::agent {
namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

std::string install_command(const PolicyAdvertisement& ad) {
    return "ferry-agent install " + (ad.id.empty() ? std::string("ADV") : ad.id);
}

std::string halted_why(const PolicyAdvertisement& ad) {
    return "the rollout is " + ad.rollout_state + " at the site: nothing happens until it resumes";
}

// Waits until `until`, or the deadline when that comes first (rule 5 then acts).
Decision wait_until(std::int64_t until, const std::optional<std::int64_t>& deadline,
                    const std::string& state, const std::string& why) {
    if (deadline && *deadline < until)
        return {Next::Wait, *deadline, state,
                why + "; the deadline " + utc_time(*deadline) + " comes first"};
    return {Next::Wait, until, state, why};
}

std::string postpones_text(int used, int max) {
    return std::to_string(used) + " of " + std::to_string(max) + " postpones used";
}

// Rule 7: the windows that parse; the first error names a spec that does not.
std::vector<MaintenanceWindow> usable_windows(const PolicyAdvertisement& ad, std::string& broken) {
    std::vector<MaintenanceWindow> windows;
    for (const auto& spec : ad.windows) {
        try {
            windows.push_back(MaintenanceWindow::parse(spec));
        } catch (const Error& e) {
            if (broken.empty()) broken = e.what();
        }
    }
    return windows;
}

// Rule 7 for a mandatory advertisement that is due: act inside a window, else wait for one.
Decision decide_windows(const PolicyAdvertisement& ad, std::int64_t now) {
    std::string broken;
    const auto windows = usable_windows(ad, broken);
    std::int64_t next_open = kNever;
    const MaintenanceWindow* opening = nullptr;
    for (const auto& window : windows) {
        const std::int64_t at = window.next_open(now);
        if (at < next_open) {
            next_open = at;
            opening = &window;
        }
    }
    if (opening == nullptr) {
        const std::string why = "no maintenance window ever opens (" +
                                (broken.empty() ? std::string("none usable") : broken) + ")";
        if (ad.deadline)
            return {Next::Wait, *ad.deadline, "waiting",
                    why + "; it runs at the deadline " + utc_time(*ad.deadline)};
        return {Next::Nothing, 0, "waiting",
                why + "; it starts when you run " + install_command(ad)};
    }
    if (next_open == now)
        return {Next::Act, now, "", "due, inside maintenance window " + opening->spec()};
    return wait_until(next_open, ad.deadline, "waiting",
                      "waiting for maintenance window " + opening->spec() +
                          " (local time), opens at " + utc_time(next_open));
}

PostponeAnswer refuse(const AdvertisementMemory& mem, const std::string& why) {
    return {false, 0, why, mem};
}

// The refusals of postpone(), in order; "" when a postpone may be granted.
std::string postpone_refusal(const PolicyAdvertisement& ad, const AdvertisementMemory& mem,
                             std::int64_t now) {
    if (ad.rollout_state != "active") return halted_why(ad);
    if (!ad.mandatory)
        return "only a mandatory advertisement is postponed; an optional one waits for you anyway";
    if (now < ad.available_at)
        return "not available before " + utc_time(ad.available_at) + ": nothing to postpone yet";
    if (ad.deadline && now >= *ad.deadline)
        return "the deadline " + utc_time(*ad.deadline) + " has passed: it installs now";
    if (ad.postpone_max <= 0) return "the site allows no postpones for this advertisement";
    if (mem.postpones_used >= ad.postpone_max)
        return "no postpones left: " + std::to_string(mem.postpones_used) + " of " +
               std::to_string(ad.postpone_max) + " used";
    if (ad.postpone_max_delay_s > 0 && mem.postponed_total_s >= ad.postpone_max_delay_s)
        return "no postpone time left: " + duration_text(mem.postponed_total_s) + " of " +
               duration_text(ad.postpone_max_delay_s) + " used";
    return "";
}

}  // namespace

Decision decide(const PolicyAdvertisement& ad, const AdvertisementMemory& mem, std::int64_t now) {
    if (ad.rollout_state != "active") return {Next::Nothing, 0, "", halted_why(ad)};
    if (now < ad.available_at)
        return {Next::Wait, ad.available_at, "", "available from " + utc_time(ad.available_at)};
    if (mem.user_requested)
        return {Next::Act, now, "", "started by you (" + install_command(ad) + ")"};
    if (!ad.mandatory)
        return {Next::Nothing, 0, "available",
                "optional: starts when you run " + install_command(ad)};
    if (ad.deadline && now >= *ad.deadline)
        return {Next::Act, now, "", "the deadline " + utc_time(*ad.deadline) + " has passed"};
    const std::int64_t due = std::max(ad.available_at, mem.postponed_until);
    if (now < due) {
        // now >= available_at here, so only a postponement can hold it.
        return wait_until(due, ad.deadline, "postponed",
                          "postponed until " + utc_time(due) + " (" +
                              postpones_text(mem.postpones_used, ad.postpone_max) + ")");
    }
    if (!ad.windows.empty()) return decide_windows(ad, now);
    return {Next::Act, now, "", "mandatory and due since " + utc_time(due)};
}

PostponeAnswer postpone(const PolicyAdvertisement& ad, const AdvertisementMemory& mem,
                        std::int64_t now, std::int64_t requested_seconds) {
    const std::string refusal = postpone_refusal(ad, mem, now);
    if (!refusal.empty()) return refuse(mem, refusal);
    const std::int64_t requested =
        requested_seconds > 0 ? requested_seconds : kDefaultPostponeSeconds;
    // A running postponement is extended, not restarted; only the time added is charged.
    const std::int64_t from = std::max(now, mem.postponed_until);
    std::int64_t until = requested > kNever - from ? kNever : from + requested;
    std::string capped;
    if (ad.postpone_max_delay_s > 0 &&
        until - from > ad.postpone_max_delay_s - mem.postponed_total_s) {
        until = from + (ad.postpone_max_delay_s - mem.postponed_total_s);
        capped += "; shortened to " + duration_text(until - from) + ": at most " +
                  duration_text(ad.postpone_max_delay_s) + " of postponement in total";
    }
    if (ad.deadline && until > *ad.deadline) {
        until = *ad.deadline;
        capped += "; shortened to the deadline " + utc_time(*ad.deadline);
    }
    if (until <= from)  // only the deadline can leave nothing to give
        return refuse(mem, ad.deadline
                               ? "already postponed up to the deadline " + utc_time(*ad.deadline)
                               : "nothing left to postpone");
    AdvertisementMemory next = mem;
    next.postpones_used += 1;
    next.postponed_until = until;
    next.postponed_total_s += until - from;
    next.user_requested = false;  // the later wish wins: not now
    return {true, until,
            "postponed until " + utc_time(until) + " (" +
                postpones_text(next.postpones_used, ad.postpone_max) + ")" + capped,
            next};
}

std::string utc_time(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
    char text[40];
    if (std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        return std::to_string(unix_seconds);
    return text;
}

std::string duration_text(std::int64_t seconds) {
    if (seconds <= 0) return "0s";
    static const std::pair<std::int64_t, const char*> units[] = {
        {86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
    // The two largest units that are not zero are enough for a message.
    std::string text;
    int shown = 0;
    for (const auto& [size, suffix] : units) {
        if (seconds < size) continue;
        text += (text.empty() ? "" : " ") + std::to_string(seconds / size) + suffix;
        seconds %= size;
        if (++shown == 2 || seconds == 0) break;
    }
    return text;
}

}  // namespace ferry::agent
