// log_fault: the line is JSON whatever the error says (quotes, backslashes, line breaks).
#define BOOST_TEST_MODULE fault_log
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>
#include <iostream>
#include <sstream>
#include <string>

#include "fault_log.h"

namespace {

// What log_fault wrote to stderr.
template <typename Log>
std::string captured(Log log) {
    std::ostringstream out;
    std::streambuf* before = std::cerr.rdbuf(out.rdbuf());
    log();
    std::cerr.rdbuf(before);
    return out.str();
}

}  // namespace

BOOST_AUTO_TEST_CASE(TheLineIsJsonWhateverTheErrorSays) {
    const std::string error = "/srv/ferry \"site\"\\db: no such table: \"x\"\nnext line";
    const std::string line = captured(
        [&] { ferry::server::log_fault("warning", "write-ahead log not checkpointed", error); });
    BOOST_REQUIRE(!line.empty());
    BOOST_TEST(line.back() == '\n');
    BOOST_TEST(line.find('\n') == line.size() - 1);  // one line
    const auto object = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(object->getValue<std::string>("level") == "warning");
    BOOST_TEST(object->getValue<std::string>("msg") == "write-ahead log not checkpointed");
    BOOST_TEST(object->getValue<std::string>("error") == error);
    BOOST_TEST(!object->has("clients"));
}

BOOST_AUTO_TEST_CASE(ACountGoesBeforeTheError) {
    const std::string line = captured([] {
        ferry::server::log_fault("warning", "last contact not written yet", "busy", "clients", 42);
    });
    BOOST_TEST(line ==
               "{\"level\": \"warning\", \"msg\": \"last contact not written yet\", "
               "\"clients\": 42, \"error\": \"busy\"}\n");
}

BOOST_AUTO_TEST_CASE(ContextFieldsAreQuotedToo) {
    const std::string path = "/api/v1/clients/\"x\"\\y";
    const std::string line = captured([&] {
        ferry::server::log_fault("error", "request failed", "boom",
                                 {{"role", "dp"}, {"path", path}});
    });
    const auto object = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(object->getValue<std::string>("role") == "dp");
    BOOST_TEST(object->getValue<std::string>("path") == path);
    BOOST_TEST(object->getValue<std::string>("error") == "boom");
    BOOST_TEST(line.find("\"path\": ") < line.find("\"error\": "));
}
