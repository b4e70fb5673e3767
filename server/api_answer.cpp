#include "api_answer.h"

#include <sstream>

#include "ferry/error.h"

namespace ferry::server {

ApiAnswer json_answer(int status, const Poco::JSON::Object& body) {
    std::ostringstream out;
    body.stringify(out, 2);
    out << "\n";
    return {status, out.str()};
}

std::int64_t query_integer(const QueryParameters& query, const std::string& name,
                           std::int64_t fallback, std::int64_t min, std::int64_t max) {
    for (const auto& [key, value] : query) {
        if (key != name) continue;
        if (value.empty() || value.size() > 18 ||
            value.find_first_not_of("0123456789") != std::string::npos || std::stoll(value) < min ||
            std::stoll(value) > max) {
            throw Error(ErrorCode::InvalidInput,
                        "query parameter \"" + name + "\": must be a whole number from " +
                            std::to_string(min) + " to " + std::to_string(max));
        }
        return std::stoll(value);
    }
    return fallback;
}

}  // namespace ferry::server
