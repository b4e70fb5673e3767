// expect_error: runs a callable and checks that it throws ferry::Error with the given code and
// a message containing `fragment` — tests assert on what an admin would read.
#pragma once

#include <boost/test/unit_test.hpp>
#include <ostream>
#include <string>

#include "ferry/error.h"
#include "ferry/manifest.h"

namespace ferry {
// Printers so that BOOST_TEST can show these values when a comparison fails.
inline std::ostream& operator<<(std::ostream& out, ErrorCode code) {
    return out << error_code_name(code);
}
inline std::ostream& operator<<(std::ostream& out, EntryType type) {
    return out << entry_type_name(type);
}
}  // namespace ferry

namespace ferry::test {

// Returns the message, so a test can check more of it.
template <typename F>
std::string expect_error(F&& fn, ErrorCode code, const std::string& fragment) {
    try {
        fn();
    } catch (const Error& e) {
        BOOST_TEST(e.code() == code, "error code " << error_code_name(e.code())
                                                   << " (message: " << e.what() << "), expected "
                                                   << error_code_name(code));
        BOOST_TEST(std::string(e.what()).find(fragment) != std::string::npos,
                   "message \"" << e.what() << "\" does not contain \"" << fragment << "\"");
        return e.what();
    }
    BOOST_ERROR("expected ferry::Error(" << error_code_name(code) << ") containing \"" << fragment
                                         << "\", but nothing was thrown");
    return {};
}

}  // namespace ferry::test
