// The scheduler: what the agent should do about one advertisement now (DESIGN §7, issue 4).
// Pure decision logic — no I/O and no clock: `now` comes from the caller's injectable clock, so
// tests walk through time without sleeping. The rules, in the order they are applied (SCCM
// semantics):
//
//  1. Rollout not "active" (halted by the site): Nothing. A halt stops even a user's install.
//  2. Before available_at: Wait until available_at; the user cannot install it earlier either.
//  3. The user asked for it (`ferry-agent install ADV`): Act now — windows and postponement
//     apply to what the agent does by itself, not to what the user starts.
//  4. Optional (not mandatory): never acts by itself; "available", Nothing.
//  5. Mandatory, deadline reached: Act, whatever the postponement and the windows.
//  6. Mandatory, postponed: Wait until postponed_until (or the deadline, if earlier).
//  7. Mandatory, windows set and none open: Wait until the next opening (or the deadline, if
//     earlier), "waiting". A window spec that does not parse never opens (the site checks them,
//     so only a damaged policy has one); with no usable window it waits for its deadline.
//  8. Otherwise: Act.
//
// Postponing (postpone()) is for mandatory advertisements only, up to postpone_max times and a
// total of postpone_max_delay_s seconds (when > 0), and never past the deadline. A postpone made
// while one is running extends it: the new time counts from the current postponed_until, and
// only the time added is charged against postpone_max_delay_s.
#pragma once

#include <cstdint>
#include <string>

#include "ferry/policy.h"

namespace ferry::agent {

// What the agent remembers of an advertisement between decisions (stored in agent_state).
struct AdvertisementMemory {
    int postpones_used = 0;
    std::int64_t postponed_until = 0;    // unix seconds; 0: never postponed
    std::int64_t postponed_total_s = 0;  // seconds of postponement charged so far
    bool user_requested = false;         // the user ran `ferry-agent install ADV`
};

enum class Next {
    Nothing,  // nothing to do until the policy or the user changes something
    Wait,     // look again at Decision::at
    Act,      // install (or uninstall, per ad.action) now
};

struct Decision {
    Next next = Next::Nothing;
    std::int64_t at = 0;  // Wait: when to look again; Act: now; Nothing: 0
    // Status word to report while not acting: "available", "waiting", "postponed", or "" (not
    // yet available, halted, or acting — the installer's states follow).
    std::string state;
    std::string why;  // one sentence for `ferry-agent list`
};

Decision decide(const PolicyAdvertisement& ad, const AdvertisementMemory& mem, std::int64_t now);

struct PostponeAnswer {
    bool allowed = false;
    std::int64_t until = 0;      // when it becomes due again (allowed only)
    std::string why;             // the refusal, or what was granted and what capped it
    AdvertisementMemory memory;  // what to store when allowed (the input memory when refused)
};

// Default length of a postpone when the user names none (requested_seconds <= 0).
constexpr std::int64_t kDefaultPostponeSeconds = 3600;

PostponeAnswer postpone(const PolicyAdvertisement& ad, const AdvertisementMemory& mem,
                        std::int64_t now, std::int64_t requested_seconds);

// "2026-09-20 08:53:20 UTC" (the form ferryctl prints); the number itself if out of range.
std::string utc_time(std::int64_t unix_seconds);

// "1h 30m", "2d 4h", "45s": a short duration for messages.
std::string duration_text(std::int64_t seconds);

}  // namespace ferry::agent
