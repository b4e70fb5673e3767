#define BOOST_TEST_MODULE maintenance_window
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>
#include <string>

#include "advertisement.h"
#include "expect_error.h"
#include "ferry/maintenance_window.h"

using namespace ferry;
using ferry::test::expect_error;

namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kMonday = 1'789'948'800;  // Monday 2026-09-21 00:00:00 UTC

// Day 0 is kMonday's week's Monday; "HH:MM" on that day, UTC.
std::int64_t at(int day, const std::string& clock) {
    return kMonday + day * kDay + std::stoi(clock.substr(0, 2)) * kHour +
           std::stoi(clock.substr(3, 2)) * 60;
}
enum Day { Mon, Tue, Wed, Thu, Fri, Sat, Sun, NextMon };

// Sets TZ for one test and puts the previous value back.
class LocalZone {
  public:
    explicit LocalZone(const char* zone) {
        if (const char* old = std::getenv("TZ")) old_ = old;
        setenv("TZ", zone, 1);
        tzset();
    }
    ~LocalZone() {
        if (old_)
            setenv("TZ", old_->c_str(), 1);
        else
            unsetenv("TZ");
        tzset();
    }

  private:
    std::optional<std::string> old_;
};

struct Utc {
    LocalZone zone{"UTC"};
};

bool have_zone(const std::string& name) {
    struct stat info {};
    return stat(("/usr/share/zoneinfo/" + name).c_str(), &info) == 0;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(ParsesEveryFormTheSiteAccepts, Utc) {
    for (const char* spec :
         {"daily 12:00-13:00", "Mon 09:00-17:00", "Mon-Fri 22:00-06:00", "Sat,Sun 00:00-23:59",
          "Fri-Mon 08:00-09:00", "Mon-Mon 00:00-00:01", "Tue,Thu,Tue 23:59-00:00"}) {
        BOOST_TEST(MaintenanceWindow::parse(spec).spec() == spec);
    }
}

BOOST_FIXTURE_TEST_CASE(BadSpecsAreNamedWithWhatIsWrong, Utc) {
    const std::pair<const char*, const char*> cases[] = {
        {"Mon-Fri",
         "\"Mon-Fri\": expected DAYS HH:MM-HH:MM (DAYS: daily, Mon, Mon-Fri or Sat,Sun)"},
        {"", "\"\": expected DAYS HH:MM-HH:MM"},
        {" Mon 10:00-11:00", "\" Mon 10:00-11:00\": expected DAYS HH:MM-HH:MM"},
        {"Funday 10:00-11:00", "\"Funday 10:00-11:00\": \"Funday\" is not a day (Mon, Tue"},
        {"mon 10:00-11:00", "\"mon\" is not a day"},
        {"Daily 10:00-11:00", "\"Daily\" is not a day"},
        {"daily,Mon 10:00-11:00", "\"daily\" is not a day"},
        {"Mon-Fun 10:00-11:00", "\"Fun\" is not a day"},
        {"Mon-Wed,Fri 10:00-11:00", "\"Mon-Wed,Fri\" is not a range of two days like Mon-Fri"},
        {"Monday-Friday 10:00-11:00", "is not a range of two days"},
        {"Sat,,Sun 10:00-11:00", "a day is missing in \"Sat,,Sun\""},
        {"Sat, 10:00-11:00", "a day is missing in \"Sat,\""},
        {"Mon 25:00-26:00", "\"Mon 25:00-26:00\": \"25:00\" is not a time of day (00:00-23:59)"},
        {"Mon 10:00-24:00", "\"24:00\" is not a time of day"},
        {"Mon 10:60-11:00", "\"10:60\" is not a time of day"},
        {"Mon 1a:00-11:00", "\"1a:00\" is not a time of day"},
        {"Mon 10.00-11:00", "\"10.00\" is not a time of day"},
        {"Mon 9:00-10:00", "\"9:00-10:00\" is not HH:MM-HH:MM"},
        {"Mon  10:00-11:00", "\" 10:00-11:00\" is not HH:MM-HH:MM"},
        {"Mon 10:00-11:00 ", "\"10:00-11:00 \" is not HH:MM-HH:MM"},
        {"Mon 10:00 11:00", "\"10:00 11:00\" is not HH:MM-HH:MM"},
        {"Mon 10:00-10:00", "it opens and closes at 10:00, so it would never be open"},
    };
    for (const auto& [spec, fragment] : cases) {
        BOOST_TEST_CONTEXT(spec) {
            expect_error([&] { MaintenanceWindow::parse(spec); }, ErrorCode::InvalidInput,
                         fragment);
        }
    }
    // A long spec is quoted by its beginning only.
    const std::string message =
        expect_error([] { MaintenanceWindow::parse(std::string(200, 'x')); },
                     ErrorCode::InvalidInput, "\"" + std::string(60, 'x') + "\": expected DAYS");
    BOOST_TEST(message.size() < 150u, message);
}

// The site checks advertisements with the same parser, naming the field.
BOOST_FIXTURE_TEST_CASE(TheSiteChecksWindowsWithTheSameGrammar, Utc) {
    server::check_window("Mon-Fri 22:00-06:00");
    expect_error([] { server::check_window("Mon 25:00-26:00"); }, ErrorCode::InvalidInput,
                 "field \"windows\": \"Mon 25:00-26:00\": \"25:00\" is not a time of day");
    expect_error([] { server::check_window("Mon-Fri"); }, ErrorCode::InvalidInput,
                 "field \"windows\": \"Mon-Fri\": expected DAYS HH:MM-HH:MM");
}

BOOST_FIXTURE_TEST_CASE(AWindowIsOpenFromItsOpeningUntilJustBeforeItsClosing, Utc) {
    const auto w = MaintenanceWindow::parse("Mon 09:00-17:00");
    BOOST_TEST(!w.contains(at(Mon, "09:00") - 1));
    BOOST_TEST(w.contains(at(Mon, "09:00")));
    BOOST_TEST(w.contains(at(Mon, "17:00") - 1));
    BOOST_TEST(!w.contains(at(Mon, "17:00")));
    BOOST_TEST(!w.contains(at(Tue, "10:00")));
    BOOST_TEST(!w.contains(at(Sun, "10:00")));
    BOOST_TEST(w.contains(at(NextMon, "12:00")));
    BOOST_TEST(w.close_after(at(Mon, "12:00")) == at(Mon, "17:00"));
    BOOST_TEST(w.close_after(at(Tue, "12:00")) == at(Tue, "12:00"));  // outside: itself
}

BOOST_FIXTURE_TEST_CASE(AWindowCrossingMidnightBelongsToTheDayItOpens, Utc) {
    const auto w = MaintenanceWindow::parse("Mon-Fri 22:00-06:00");
    BOOST_TEST(!w.contains(at(Mon, "05:00")));  // Sunday night opened nothing
    BOOST_TEST(!w.contains(at(Mon, "21:59")));
    BOOST_TEST(w.contains(at(Mon, "22:00")));
    BOOST_TEST(w.contains(at(Tue, "05:59")));
    BOOST_TEST(!w.contains(at(Tue, "06:00")));
    BOOST_TEST(w.contains(at(Fri, "23:00")));
    BOOST_TEST(w.contains(at(Sat, "05:00")));  // Friday's window runs into Saturday
    BOOST_TEST(!w.contains(at(Sat, "22:30")));
    BOOST_TEST(!w.contains(at(Sun, "23:00")));
    BOOST_TEST(w.close_after(at(Mon, "23:00")) == at(Tue, "06:00"));
    BOOST_TEST(w.close_after(at(Tue, "01:00")) == at(Tue, "06:00"));
    BOOST_TEST(w.close_after(at(Fri, "22:00")) == at(Sat, "06:00"));
    // A window that closes one minute after midnight.
    const auto late = MaintenanceWindow::parse("Sun 23:59-00:00");
    BOOST_TEST(late.contains(at(Sun, "23:59")));
    BOOST_TEST(!late.contains(at(NextMon, "00:00")));
    BOOST_TEST(late.close_after(at(Sun, "23:59") + 30) == at(NextMon, "00:00"));
}

BOOST_FIXTURE_TEST_CASE(DailyWindowsAndDayListsOpenOnTheirDaysOnly, Utc) {
    const auto lunch = MaintenanceWindow::parse("daily 12:00-13:00");
    for (int day = Mon; day <= Sun; ++day) {
        BOOST_TEST(lunch.contains(at(day, "12:30")), "day " << day);
        BOOST_TEST(!lunch.contains(at(day, "13:00")), "day " << day);
        BOOST_TEST(!lunch.contains(at(day, "11:59")), "day " << day);
    }
    const auto weekend = MaintenanceWindow::parse("Sat,Sun 00:00-23:59");
    BOOST_TEST(weekend.contains(at(Sat, "00:00")));
    BOOST_TEST(weekend.contains(at(Sun, "23:58")));
    BOOST_TEST(!weekend.contains(at(Sun, "23:59")));
    BOOST_TEST(!weekend.contains(at(Fri, "12:00")));
    BOOST_TEST(!weekend.contains(at(NextMon, "00:00")));
    const auto some = MaintenanceWindow::parse("Tue,Thu 08:00-09:00");
    BOOST_TEST(some.contains(at(Tue, "08:30")));
    BOOST_TEST(some.contains(at(Thu, "08:30")));
    BOOST_TEST(!some.contains(at(Wed, "08:30")));
}

BOOST_FIXTURE_TEST_CASE(RangesCountForwardAndMayWrapThroughTheWeekend, Utc) {
    const auto wrap = MaintenanceWindow::parse("Fri-Mon 08:00-09:00");
    for (int day : {Fri, Sat, Sun, NextMon, Mon})
        BOOST_TEST(wrap.contains(at(day, "08:30")), "day " << day);
    for (int day : {Tue, Wed, Thu}) BOOST_TEST(!wrap.contains(at(day, "08:30")), "day " << day);
    const auto one = MaintenanceWindow::parse("Mon-Mon 08:00-09:00");
    BOOST_TEST(one.contains(at(Mon, "08:30")));
    for (int day = Tue; day <= Sun; ++day) BOOST_TEST(!one.contains(at(day, "08:30")));
}

BOOST_FIXTURE_TEST_CASE(NextOpenIsNowInsideElseTheNextOpening, Utc) {
    const auto w = MaintenanceWindow::parse("Mon 09:00-10:00");
    BOOST_TEST(w.next_open(at(Mon, "09:30")) == at(Mon, "09:30"));
    BOOST_TEST(w.next_open(at(Mon, "08:00")) == at(Mon, "09:00"));
    // Past this week's: next week's, across the week boundary.
    BOOST_TEST(w.next_open(at(Mon, "10:00")) == at(NextMon, "09:00"));
    BOOST_TEST(w.next_open(at(Sun, "23:00")) == at(NextMon, "09:00"));
    BOOST_TEST(w.next_open(at(Wed, "00:00")) == at(NextMon, "09:00"));

    const auto night = MaintenanceWindow::parse("Fri 22:00-06:00");
    BOOST_TEST(night.next_open(at(Sat, "05:00")) == at(Sat, "05:00"));
    BOOST_TEST(night.next_open(at(Sat, "06:00")) == at(Fri, "22:00") + 7 * kDay);
    BOOST_TEST(night.next_open(at(Tue, "12:00")) == at(Fri, "22:00"));

    const auto daily = MaintenanceWindow::parse("daily 02:00-03:00");
    BOOST_TEST(daily.next_open(at(Sun, "03:00")) == at(NextMon, "02:00"));

    // Across a month and a year: Thursday 2026-12-31 to Friday 2027-01-01.
    const std::int64_t new_years_eve = 1'798'675'200;  // 2026-12-31 00:00:00 UTC, a Thursday
    BOOST_TEST(MaintenanceWindow::parse("Fri 09:00-10:00").next_open(new_years_eve) ==
               new_years_eve + kDay + 9 * kHour);
}

BOOST_FIXTURE_TEST_CASE(SeveralWindowsAreOneSchedule, Utc) {
    const std::vector<MaintenanceWindow> windows = {
        MaintenanceWindow::parse("Mon-Fri 22:00-06:00"),
        MaintenanceWindow::parse("Sat,Sun 10:00-12:00")};
    BOOST_TEST(any_window_contains(windows, at(Tue, "01:00")));
    BOOST_TEST(any_window_contains(windows, at(Sun, "11:00")));
    BOOST_TEST(!any_window_contains(windows, at(Sat, "09:00")));
    BOOST_TEST(next_window_open(windows, at(Tue, "01:00")) == at(Tue, "01:00"));
    BOOST_TEST(next_window_open(windows, at(Sat, "07:00")) == at(Sat, "10:00"));
    BOOST_TEST(next_window_open(windows, at(Sun, "12:00")) == at(NextMon, "22:00"));
    BOOST_TEST(next_window_open(windows, at(Wed, "12:00")) == at(Wed, "22:00"));
    BOOST_TEST(!any_window_contains({}, at(Wed, "12:00")));
    BOOST_TEST(next_window_open({}, at(Wed, "12:00")) == std::numeric_limits<std::int64_t>::max());
}

// Windows are the agent's wall clock, not UTC.
BOOST_AUTO_TEST_CASE(WindowsFollowTheLocalTimeZone) {
    if (!have_zone("Europe/Berlin")) {
        BOOST_TEST_MESSAGE("no tzdata for Europe/Berlin; skipped");
        return;
    }
    LocalZone berlin("Europe/Berlin");
    const auto w = MaintenanceWindow::parse("Mon-Fri 22:00-06:00");
    // September is summer time (UTC+2): Monday 22:00 in Berlin is 20:00 UTC.
    BOOST_TEST(!w.contains(at(Mon, "19:59")));
    BOOST_TEST(w.contains(at(Mon, "20:00")));
    BOOST_TEST(w.close_after(at(Mon, "20:00")) == at(Tue, "04:00"));
    BOOST_TEST(w.next_open(at(Mon, "12:00")) == at(Mon, "20:00"));
    // Sunday 23:00 UTC is already Monday 01:00 in Berlin, and Sunday night opened nothing.
    BOOST_TEST(!w.contains(at(Sun, "23:00")));
    // Saturday 03:00 UTC is Saturday 05:00 in Berlin, inside Friday's window.
    BOOST_TEST(w.contains(at(Sat, "03:00")));

    // The end of summer time (Sunday 2026-10-25, 03:00 CEST -> 02:00 CET): the night that
    // crosses it is an hour longer in real time.
    const std::int64_t oct24_utc = 1'792'800'000;  // Saturday 2026-10-24 00:00:00 UTC
    const auto saturday_night = MaintenanceWindow::parse("Sat 22:00-06:00");
    const std::int64_t opens = oct24_utc + 20 * kHour;  // 22:00 CEST
    BOOST_TEST(saturday_night.next_open(oct24_utc) == opens);
    BOOST_TEST(saturday_night.close_after(opens) == opens + 9 * kHour);  // 06:00 CET

    // The start of summer time (Sunday 2026-03-29, 02:00 CET -> 03:00 CEST): 02:00-02:59 does
    // not exist. Whatever mktime makes of it, the answers are finite, ordered and near.
    const std::int64_t mar28_utc = 1'774'656'000;  // Saturday 2026-03-28 00:00:00 UTC
    for (const char* spec : {"daily 02:15-02:45", "daily 01:30-02:30", "daily 02:30-04:00"}) {
        BOOST_TEST_CONTEXT(spec) {
            const auto gap = MaintenanceWindow::parse(spec);
            std::int64_t t = mar28_utc + 12 * kHour;
            for (int step = 0; step < 4; ++step) {
                const std::int64_t open = gap.next_open(t);
                BOOST_TEST(open > t);
                BOOST_TEST(open <= t + 2 * kDay);
                BOOST_TEST(gap.contains(open));
                const std::int64_t close = gap.close_after(open);
                BOOST_TEST(close > open);
                BOOST_TEST(close - open <= 3 * kHour);
                BOOST_TEST(!gap.contains(close));
                t = close;
            }
        }
    }
}
