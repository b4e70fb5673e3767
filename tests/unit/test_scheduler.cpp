#define BOOST_TEST_MODULE scheduler
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>
#include <ostream>
#include <string>

#include "scheduler.h"

using namespace ferry;
using namespace ferry::agent;

namespace ferry::agent {
inline std::ostream& operator<<(std::ostream& out, Next next) {
    return out << (next == Next::Nothing ? "Nothing" : next == Next::Wait ? "Wait" : "Act");
}
}  // namespace ferry::agent

namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kMonday = 1'789'948'800;  // Monday 2026-09-21 00:00:00 UTC

bool has(const std::string& text, const std::string& fragment) {
    return text.find(fragment) != std::string::npos;
}

// A mandatory advertisement available Monday 10:00 UTC, with a deadline on Friday 10:00, two
// postpones of at most 8 hours in all; the agent's clock runs in UTC (windows are local time).
struct Fixture {
    std::optional<std::string> old_tz;
    PolicyAdvertisement ad;
    AdvertisementMemory mem;
    const std::int64_t available = kMonday + 10 * kHour;
    const std::int64_t deadline = kMonday + 4 * kDay + 10 * kHour;

    Fixture() {
        if (const char* tz = std::getenv("TZ")) old_tz = tz;
        setenv("TZ", "UTC", 1);
        tzset();
        ad.id = "ADV-0007";
        ad.package = "hello";
        ad.version = "1.0";
        ad.available_at = available;
        ad.deadline = deadline;
        ad.mandatory = true;
        ad.postpone_max = 2;
        ad.postpone_max_delay_s = 8 * kHour;
    }
    ~Fixture() {
        if (old_tz)
            setenv("TZ", old_tz->c_str(), 1);
        else
            unsetenv("TZ");
        tzset();
    }

    void expect(const Decision& d, Next next, std::int64_t at, const std::string& state,
                const std::string& why_fragment) {
        BOOST_TEST(d.next == next, d.why);
        BOOST_TEST(d.at == at, d.why);
        BOOST_TEST(d.state == state, d.why);
        BOOST_TEST(has(d.why, why_fragment),
                   "\"" << d.why << "\" lacks \"" << why_fragment << "\"");
    }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(AHaltedRolloutDoesNothingEvenWhenAskedOrOverdue, Fixture) {
    ad.rollout_state = "halted";
    expect(decide(ad, mem, available + kHour), Next::Nothing, 0, "", "the rollout is halted");
    mem.user_requested = true;
    expect(decide(ad, mem, deadline + kHour), Next::Nothing, 0, "", "the rollout is halted");
}

BOOST_FIXTURE_TEST_CASE(NothingHappensBeforeTheAvailableTimeNotEvenForTheUser, Fixture) {
    const std::string why = "available from 2026-09-21 10:00:00 UTC";
    expect(decide(ad, mem, available - 1), Next::Wait, available, "", why);
    mem.user_requested = true;
    expect(decide(ad, mem, available - kHour), Next::Wait, available, "", why);
    ad.mandatory = false;
    expect(decide(ad, mem, kMonday), Next::Wait, available, "", why);
}

BOOST_FIXTURE_TEST_CASE(AMandatoryAdvertisementWithoutWindowsActsOnceAvailable, Fixture) {
    expect(decide(ad, mem, available), Next::Act, available, "", "mandatory and due since");
    expect(decide(ad, mem, available + kDay), Next::Act, available + kDay, "", "");
    ad.deadline.reset();  // ASAP without a deadline: the same
    expect(decide(ad, mem, available + 5), Next::Act, available + 5, "", "");
    ad.action = "uninstall";  // an uninstall is scheduled like an install
    expect(decide(ad, mem, available + 5), Next::Act, available + 5, "", "");
}

BOOST_FIXTURE_TEST_CASE(AnOptionalAdvertisementWaitsForTheUser, Fixture) {
    ad.mandatory = false;
    ad.windows = {"Sat 01:00-02:00"};
    const std::string why = "optional: starts when you run ferry-agent install ADV-0007";
    expect(decide(ad, mem, available), Next::Nothing, 0, "available", why);
    expect(decide(ad, mem, deadline + kDay), Next::Nothing, 0, "available", why);  // no deadline
    mem.user_requested = true;
    expect(decide(ad, mem, available + kHour), Next::Act, available + kHour, "",
           "started by you (ferry-agent install ADV-0007)");
}

BOOST_FIXTURE_TEST_CASE(TheUserStartsAMandatoryOneOutsideItsWindowAndWhilePostponed, Fixture) {
    ad.windows = {"Sat 01:00-02:00"};
    mem.postpones_used = 1;
    mem.postponed_until = available + 5 * kHour;
    mem.user_requested = true;
    expect(decide(ad, mem, available + kHour), Next::Act, available + kHour, "", "started by you");
}

BOOST_FIXTURE_TEST_CASE(TheDeadlineActsWhateverThePostponementAndTheWindows, Fixture) {
    ad.windows = {"Sat 01:00-02:00"};
    mem.postpones_used = 2;
    mem.postponed_until = deadline + kDay;  // as if the deadline moved earlier afterwards
    expect(decide(ad, mem, deadline), Next::Act, deadline, "",
           "the deadline 2026-09-25 10:00:00 UTC has passed");
    expect(decide(ad, mem, deadline + kHour), Next::Act, deadline + kHour, "", "has passed");
    // Just before it, the postponement holds, but only until the deadline.
    expect(decide(ad, mem, deadline - 1), Next::Wait, deadline, "postponed",
           "; the deadline 2026-09-25 10:00:00 UTC comes first");
}

BOOST_FIXTURE_TEST_CASE(APostponementHoldsItUntilItsEnd, Fixture) {
    mem.postpones_used = 1;
    mem.postponed_until = available + 3 * kHour;
    expect(decide(ad, mem, available + kHour), Next::Wait, available + 3 * kHour, "postponed",
           "postponed until 2026-09-21 13:00:00 UTC (1 of 2 postpones used)");
    expect(decide(ad, mem, available + 3 * kHour), Next::Act, available + 3 * kHour, "", "");
    // A postponement that ended before the available time does not hold it.
    mem.postponed_until = available - kHour;
    expect(decide(ad, mem, available), Next::Act, available, "", "");
}

BOOST_FIXTURE_TEST_CASE(OutsideItsWindowsItWaitsForTheNextOpening, Fixture) {
    ad.windows = {"Mon-Fri 22:00-06:00", "Sat,Sun 10:00-12:00"};
    // Monday 12:00: the night window opens at 22:00.
    expect(decide(ad, mem, kMonday + 12 * kHour), Next::Wait, kMonday + 22 * kHour, "waiting",
           "waiting for maintenance window Mon-Fri 22:00-06:00 (local time), opens at "
           "2026-09-21 22:00:00 UTC");
    expect(decide(ad, mem, kMonday + 22 * kHour), Next::Act, kMonday + 22 * kHour, "",
           "due, inside maintenance window Mon-Fri 22:00-06:00");
    expect(decide(ad, mem, kMonday + kDay + 5 * kHour), Next::Act, kMonday + kDay + 5 * kHour, "",
           "inside maintenance window Mon-Fri");
    // Without a deadline, Saturday 07:00 waits for the weekend window at 10:00.
    ad.deadline.reset();
    const std::int64_t saturday = kMonday + 5 * kDay;
    expect(decide(ad, mem, saturday + 7 * kHour), Next::Wait, saturday + 10 * kHour, "waiting",
           "maintenance window Sat,Sun 10:00-12:00");
    expect(decide(ad, mem, saturday + 11 * kHour), Next::Act, saturday + 11 * kHour, "",
           "Sat,Sun 10:00-12:00");
}

BOOST_FIXTURE_TEST_CASE(AWindowAfterTheDeadlineWaitsOnlyUntilTheDeadline, Fixture) {
    ad.windows = {"Sat 01:00-02:00"};
    expect(decide(ad, mem, available), Next::Wait, deadline, "waiting",
           "; the deadline 2026-09-25 10:00:00 UTC comes first");
    expect(decide(ad, mem, deadline), Next::Act, deadline, "", "the deadline");
}

BOOST_FIXTURE_TEST_CASE(AWindowThatDoesNotParseNeverOpens, Fixture) {
    ad.windows = {"Funday 10:00-11:00"};
    expect(decide(ad, mem, available), Next::Wait, deadline, "waiting",
           "no maintenance window ever opens (\"Funday 10:00-11:00\": \"Funday\" is not a day");
    ad.deadline.reset();
    expect(decide(ad, mem, available), Next::Nothing, 0, "waiting",
           "it starts when you run ferry-agent install ADV-0007");
    // A good window next to it is used.
    ad.windows = {"Funday 10:00-11:00", "daily 22:00-23:00"};
    expect(decide(ad, mem, available), Next::Wait, kMonday + 22 * kHour, "waiting",
           "daily 22:00-23:00");
}

BOOST_FIXTURE_TEST_CASE(PostponingIsRefusedWhenTheRulesSayNo, Fixture) {
    const auto refused = [&](std::int64_t now, const std::string& why) {
        const auto answer = postpone(ad, mem, now, kHour);
        BOOST_TEST(!answer.allowed, answer.why);
        BOOST_TEST(answer.why == why);
        BOOST_TEST(answer.memory.postpones_used == mem.postpones_used);
        BOOST_TEST(answer.memory.postponed_until == mem.postponed_until);
        BOOST_TEST(answer.memory.postponed_total_s == mem.postponed_total_s);
    };
    ad.mandatory = false;
    refused(available,
            "only a mandatory advertisement is postponed; an optional one waits for you anyway");
    ad.mandatory = true;
    ad.rollout_state = "halted";
    refused(available, "the rollout is halted at the site: nothing happens until it resumes");
    ad.rollout_state = "active";
    refused(available - 1, "not available before 2026-09-21 10:00:00 UTC: nothing to postpone yet");
    refused(deadline, "the deadline 2026-09-25 10:00:00 UTC has passed: it installs now");
    mem.postpones_used = 2;
    refused(available, "no postpones left: 2 of 2 used");
    mem.postpones_used = 1;
    mem.postponed_total_s = 8 * kHour;
    refused(available, "no postpone time left: 8h of 8h used");
    mem = {};
    ad.postpone_max = 0;
    refused(available, "the site allows no postpones for this advertisement");
}

BOOST_FIXTURE_TEST_CASE(APostponeIsAnHourUnlessTheUserSaysAndIsCounted, Fixture) {
    const std::int64_t now = available + kHour;
    const auto first = postpone(ad, mem, now, 0);
    BOOST_TEST(first.allowed, first.why);
    BOOST_TEST(first.until == now + kHour);
    BOOST_TEST(first.why == "postponed until 2026-09-21 12:00:00 UTC (1 of 2 postpones used)");
    BOOST_TEST(first.memory.postpones_used == 1);
    BOOST_TEST(first.memory.postponed_until == now + kHour);
    BOOST_TEST(first.memory.postponed_total_s == kHour);
    BOOST_TEST(postpone(ad, mem, now, -5).until == now + kHour);
    BOOST_TEST(postpone(ad, mem, now, 90 * 60).until == now + 90 * 60);

    // A second one while the first runs extends it; only the time added is charged.
    mem = first.memory;
    const auto second = postpone(ad, mem, now + 10 * 60, 2 * kHour);
    BOOST_TEST(second.allowed, second.why);
    BOOST_TEST(second.until == now + 3 * kHour);
    BOOST_TEST(second.memory.postpones_used == 2);
    BOOST_TEST(second.memory.postponed_total_s == 3 * kHour);
    BOOST_TEST(second.why == "postponed until 2026-09-21 14:00:00 UTC (2 of 2 postpones used)");

    mem = second.memory;
    BOOST_TEST(postpone(ad, mem, now + 4 * kHour, kHour).why == "no postpones left: 2 of 2 used");
}

BOOST_FIXTURE_TEST_CASE(APostponeIsShortenedToTheTotalDelayAndTheDeadline, Fixture) {
    mem.postpones_used = 1;
    mem.postponed_total_s = 6 * kHour;
    const std::int64_t now = available + 10 * kHour;
    const auto capped = postpone(ad, mem, now, 5 * kHour);
    BOOST_TEST(capped.allowed, capped.why);
    BOOST_TEST(capped.until == now + 2 * kHour);
    BOOST_TEST(capped.memory.postponed_total_s == 8 * kHour);
    BOOST_TEST(capped.why ==
               "postponed until 2026-09-21 22:00:00 UTC (2 of 2 postpones used); shortened to 2h: "
               "at most 8h of postponement in total");

    // Never past the deadline, whatever the limit on delay.
    mem = {};
    ad.postpone_max_delay_s = 0;  // no limit on the total
    const std::int64_t late = deadline - 30 * 60;
    const auto at_deadline = postpone(ad, mem, late, 3 * kDay);
    BOOST_TEST(at_deadline.allowed, at_deadline.why);
    BOOST_TEST(at_deadline.until == deadline);
    BOOST_TEST(at_deadline.memory.postponed_total_s == 30 * 60);
    BOOST_TEST(has(at_deadline.why, "; shortened to the deadline 2026-09-25 10:00:00 UTC"),
               at_deadline.why);
    // Postponed up to the deadline already: nothing left to give.
    mem = at_deadline.memory;
    const auto more = postpone(ad, mem, late + 60, kHour);
    BOOST_TEST(!more.allowed);
    BOOST_TEST(more.why == "already postponed up to the deadline 2026-09-25 10:00:00 UTC");
    // And at the deadline it installs, as decide() says.
    BOOST_TEST(decide(ad, mem, deadline).next == Next::Act);
}

BOOST_FIXTURE_TEST_CASE(APostponeWithdrawsAnEarlierInstallRequest, Fixture) {
    mem.user_requested = true;
    const auto answer = postpone(ad, mem, available, kHour);
    BOOST_TEST(answer.allowed);
    BOOST_TEST(!answer.memory.user_requested);
    BOOST_TEST(decide(ad, answer.memory, available + 1).state == "postponed");
}

// A week of one agent's life with a fake clock: what decide() and postpone() say as time passes.
BOOST_FIXTURE_TEST_CASE(AWeekWithAFakeClock, Fixture) {
    ad.windows = {"Mon-Fri 22:00-06:00"};
    std::int64_t now = kMonday;
    auto d = decide(ad, mem, now);
    BOOST_TEST(d.next == Next::Wait);
    now = d.at;  // Monday 10:00: available, but outside the window
    d = decide(ad, mem, now);
    BOOST_TEST(d.state == "waiting");
    BOOST_TEST(d.at == kMonday + 22 * kHour);
    // The user postpones twice; the second is cut to the 8-hour total.
    auto answer = postpone(ad, mem, now, 4 * kHour);
    BOOST_TEST_REQUIRE(answer.allowed);
    mem = answer.memory;
    answer = postpone(ad, mem, now, 6 * kHour);
    BOOST_TEST_REQUIRE(answer.allowed);
    mem = answer.memory;
    BOOST_TEST(mem.postponed_until == available + 8 * kHour);  // from the end of the first: 4+4
    d = decide(ad, mem, now);
    BOOST_TEST(d.state == "postponed");
    BOOST_TEST(d.at == available + 8 * kHour);
    now = d.at;  // Monday 18:00: due again, the window opens at 22:00
    d = decide(ad, mem, now);
    BOOST_TEST(d.state == "waiting");
    BOOST_TEST(d.at == kMonday + 22 * kHour);
    now = d.at;
    BOOST_TEST(decide(ad, mem, now).next == Next::Act);
    BOOST_TEST(!postpone(ad, mem, now, kHour).allowed);
}

BOOST_AUTO_TEST_CASE(TimesAndDurationsReadWell) {
    BOOST_TEST(utc_time(kMonday) == "2026-09-21 00:00:00 UTC");
    BOOST_TEST(utc_time(0) == "1970-01-01 00:00:00 UTC");
    BOOST_TEST(utc_time(std::numeric_limits<std::int64_t>::max()) ==
               std::to_string(std::numeric_limits<std::int64_t>::max()));
    BOOST_TEST(duration_text(0) == "0s");
    BOOST_TEST(duration_text(45) == "45s");
    BOOST_TEST(duration_text(3600) == "1h");
    BOOST_TEST(duration_text(5400) == "1h 30m");
    BOOST_TEST(duration_text(2 * kDay + 4 * kHour + 59) == "2d 4h");
    BOOST_TEST(duration_text(kDay + 5 * 60) == "1d 5m");
}
