// ApiAnswer: what a resource handler returns — a status and a JSON body — so that handlers stay
// free of Poco's response objects and the server sends every answer the same way.
#pragma once

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ferry::server {

struct ApiAnswer {
    int status = 200;
    std::string json;
};

// The object, indented, with a final newline.
ApiAnswer json_answer(int status, const Poco::JSON::Object& body);

using QueryParameters = std::vector<std::pair<std::string, std::string>>;

// The whole number `name` from a query string, `fallback` when absent; Error(InvalidInput)
// naming the parameter when it is not a number from `min` to `max`.
std::int64_t query_integer(const QueryParameters& query, const std::string& name,
                           std::int64_t fallback, std::int64_t min, std::int64_t max);

}  // namespace ferry::server
