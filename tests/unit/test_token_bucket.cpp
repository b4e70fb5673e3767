// The shared throttle (DESIGN §9): exact accounting with a fake clock, pauses and cancellation,
// and the weekly rate schedule.
#define BOOST_TEST_MODULE token_bucket
#include <stdlib.h>
#include <time.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <thread>

#include "expect_error.h"
#include "ferry/error.h"
#include "ferry/throttle.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono;

namespace {

// A clock that only moves when the bucket sleeps.
struct FakeTime {
    steady_clock::time_point now{};
    nanoseconds slept{0};
    TokenBucket bucket(double rate, double burst) {
        return TokenBucket(
            rate, burst, [this] { return now; },
            [this](nanoseconds d) {
                now += d;
                slept += d;
            });
    }
};

std::int64_t utc(int year, int month, int day, int hour, int minute) {
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace

BOOST_AUTO_TEST_CASE(ABucketLetsBytesThroughAtItsRateAfterTheBurst) {
    FakeTime t;
    TokenBucket bucket = t.bucket(1024 * 1024, 64 * 1024);
    BOOST_TEST(bucket.acquire(64 * 1024));  // the burst: no wait
    BOOST_TEST(t.slept.count() == 0);
    for (int i = 0; i < 16; ++i) bucket.acquire(64 * 1024);  // 1 MiB more at 1 MiB/s
    BOOST_TEST(duration<double>(t.slept).count() == 1.0, boost::test_tools::tolerance(0.01));
}

BOOST_AUTO_TEST_CASE(ALargeRequestWaitsItsWholeShare) {
    FakeTime t;
    TokenBucket bucket = t.bucket(100, 10);
    bucket.acquire(10);
    bucket.acquire(500);  // far more than the burst: five seconds of debt
    BOOST_TEST(duration<double>(t.slept).count() == 5.0, boost::test_tools::tolerance(0.01));
}

BOOST_AUTO_TEST_CASE(UnlimitedNeverWaitsAndARateChangeTakesEffect) {
    FakeTime t;
    TokenBucket bucket = t.bucket(kUnlimited, 10);
    bucket.acquire(1'000'000'000);
    BOOST_TEST(t.slept.count() == 0);
    bucket.set_rate(1000);
    bucket.acquire(10);  // the burst
    bucket.acquire(2000);
    BOOST_TEST(duration<double>(t.slept).count() == 2.0, boost::test_tools::tolerance(0.01));
}

BOOST_AUTO_TEST_CASE(APausedBucketWaitsUntilResumedOrCancelled) {
    std::atomic<bool> cancel{false};
    TokenBucket paused(0, 1024);
    std::thread canceller([&] {
        std::this_thread::sleep_for(milliseconds(150));
        cancel = true;
    });
    const auto start = steady_clock::now();
    BOOST_TEST(!paused.acquire(10, &cancel));
    BOOST_TEST((steady_clock::now() - start >= milliseconds(100)));
    canceller.join();

    TokenBucket resumed(0, 1024);
    std::thread resumer([&] {
        std::this_thread::sleep_for(milliseconds(150));
        resumed.set_rate(kUnlimited);
    });
    BOOST_TEST(resumed.acquire(10));
    resumer.join();
}

BOOST_AUTO_TEST_CASE(RatesAreParsedWithTheirUnits) {
    BOOST_TEST(parse_rate("2MiB/s") == 2.0 * 1024 * 1024);
    BOOST_TEST(parse_rate("512 KiB/s") == 512.0 * 1024);
    BOOST_TEST(parse_rate("100B/s") == 100.0);
    BOOST_TEST(std::isinf(parse_rate("unlimited")));
    BOOST_TEST(parse_rate("paused") == 0.0);
    for (const char* bad : {"", "fast", "2 MB/s", "-1MiB/s", "0B/s", "2MiB"})
        BOOST_CHECK_THROW(parse_rate(bad), Error);
    BOOST_TEST(rate_text(2.0 * 1024 * 1024) == "2.0 MiB/s");
    BOOST_TEST(rate_text(0) == "paused");
}

BOOST_AUTO_TEST_CASE(TheScheduleTakesTheFirstMatchingRuleThenTheDefault) {
    setenv("TZ", "UTC", 1);
    tzset();
    const auto schedule = RateSchedule::parse(
        "Mon-Fri 08:00-18:00 2MiB/s; Sat,Sun 10:00-16:00 paused; daily 22:00-06:00 "
        "10MiB/s; default 5MiB/s");
    // 2026-11-23 is a Monday.
    BOOST_TEST(schedule.rate_at(utc(2026, 11, 23, 9, 0)) == 2.0 * 1024 * 1024);
    BOOST_TEST(schedule.rate_at(utc(2026, 11, 23, 19, 0)) == 5.0 * 1024 * 1024);
    BOOST_TEST(schedule.rate_at(utc(2026, 11, 24, 3, 0)) ==
               10.0 * 1024 * 1024);                                 // crosses midnight
    BOOST_TEST(schedule.rate_at(utc(2026, 11, 28, 12, 0)) == 0.0);  // Saturday
    BOOST_TEST(std::isinf(RateSchedule::parse("").rate_at(utc(2026, 11, 23, 9, 0))));
    BOOST_TEST(std::isinf(
        RateSchedule::parse("Mon 08:00-09:00 1MiB/s").rate_at(utc(2026, 11, 23, 10, 0))));
}

BOOST_AUTO_TEST_CASE(ABadScheduleNamesTheRule) {
    expect_error([] { RateSchedule::parse("Mon 08:00-09:00 1MiB/s; Fri 25:00-26:00 1MiB/s"); },
                 ErrorCode::InvalidInput, "schedule rule 2 \"Fri 25:00-26:00 1MiB/s\"");
    expect_error([] { RateSchedule::parse("default fast"); }, ErrorCode::InvalidInput,
                 "schedule rule 1 \"default fast\": rate \"fast\"");
}

BOOST_AUTO_TEST_CASE(AStartTimeHoldsDistributionBackUntilThen) {
    const auto schedule = RateSchedule::parse("start 2026-12-01T22:00Z; default 2MiB/s");
    BOOST_TEST(schedule.rate_at(utc(2026, 12, 1, 21, 59)) == 0.0);
    BOOST_TEST(schedule.rate_at(utc(2026, 12, 1, 22, 0)) == 2.0 * 1024 * 1024);
    expect_error([] { RateSchedule::parse("start tomorrow"); }, ErrorCode::InvalidInput,
                 "schedule rule 1 \"start tomorrow\": start \"tomorrow\": expected");
}
