#include "fault_log.h"

#include <Poco/JSON/Stringifier.h>

#include <iostream>
#include <sstream>

namespace ferry::server {

void log_fault(const char* level, const char* msg, const std::string& error, const char* count_name,
               std::size_t count) {
    std::ostringstream line;
    line << "{\"level\": \"" << level << "\", \"msg\": ";
    Poco::JSON::Stringifier::formatString(msg, line);
    if (count_name) line << ", \"" << count_name << "\": " << count;
    line << ", \"error\": ";
    Poco::JSON::Stringifier::formatString(error, line);
    line << "}\n";
    std::cerr << line.str() << std::flush;  // one write: lines from threads do not interleave
}

}  // namespace ferry::server
