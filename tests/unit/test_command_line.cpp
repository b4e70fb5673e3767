// whole_number: the one parser of numeric options (ferry-agent, the bench tools). Anything but a
// plain whole number in range is a UsageError that names the option, the text and the range.
#define BOOST_TEST_MODULE command_line
#include <boost/test/unit_test.hpp>
#include <string>

#include "ferry/command_line.h"

using ferry::UsageError;
using ferry::whole_number;

BOOST_AUTO_TEST_CASE(AWholeNumberInRangeIsTaken) {
    BOOST_TEST(whole_number("--interval", "60", 1, 86400) == 60);
    BOOST_TEST(whole_number("--interval", "1", 1, 86400) == 1);
    BOOST_TEST(whole_number("--interval", "86400", 1, 86400) == 86400);
    BOOST_TEST(whole_number("--seed", "0", 0, 10) == 0);
}

BOOST_AUTO_TEST_CASE(AnythingElseIsAUsageErrorNamingTheOptionTextAndRange) {
    for (const char* bad : {"", "0", "86401", "5x", "x5", " 5", "5 ", "+5", "-1", "1e3", "3.5",
                            "99999999999999999999999"}) {
        try {
            whole_number("--interval", bad, 1, 86400);
            BOOST_ERROR("taken: \"" << bad << "\"");
        } catch (const UsageError& e) {
            const std::string message = e.what();
            BOOST_TEST(message == "--interval \"" + std::string(bad) +
                                      "\": expected a whole number from 1 to 86400");
        }
    }
}
