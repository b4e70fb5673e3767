#include "fault_log.h"

#include <Poco/JSON/Stringifier.h>

#include <iostream>
#include <sstream>

namespace ferry::server {

namespace {

void start_line(std::ostringstream& line, const char* level, const char* msg) {
    line << "{\"level\": \"" << level << "\", \"msg\": ";
    Poco::JSON::Stringifier::formatString(msg, line);
}

void end_line(std::ostringstream& line, const std::string& error) {
    line << ", \"error\": ";
    Poco::JSON::Stringifier::formatString(error, line);
    line << "}\n";
    std::cerr << line.str() << std::flush;  // one write: lines from threads do not interleave
}

}  // namespace

void log_fault(const char* level, const char* msg, const std::string& error, const char* count_name,
               std::size_t count) {
    std::ostringstream line;
    start_line(line, level, msg);
    if (count_name) line << ", \"" << count_name << "\": " << count;
    end_line(line, error);
}

void log_fault(const char* level, const char* msg, const std::string& error,
               std::initializer_list<LogField> context) {
    std::ostringstream line;
    start_line(line, level, msg);
    for (const auto& [name, value] : context) {
        line << ", \"" << name << "\": ";
        Poco::JSON::Stringifier::formatString(value, line);
    }
    end_line(line, error);
}

}  // namespace ferry::server
