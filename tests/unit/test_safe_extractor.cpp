#define BOOST_TEST_MODULE safe_extractor
#include <boost/test/unit_test.hpp>
// Cases 1 and 18-25 of THREATS.md: being written.
BOOST_AUTO_TEST_CASE(Placeholder) { BOOST_TEST(true); }
