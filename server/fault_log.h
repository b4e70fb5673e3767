// log_fault: one line of ferryd's structured log on stderr for a fault that a background part
// handled (a checkpoint, a batch of contacts, an answer left to the handler):
//   {"level": LEVEL, "msg": MSG, "error": ERROR}
// with ERROR quoted as JSON (it may carry a path or SQL text, quotes and all), and, when
// `count_name` is set, "COUNT_NAME": COUNT before it. Every handled fault of ferryd and the
// distribution point's server is logged through here.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <utility>

namespace ferry::server {

void log_fault(const char* level, const char* msg, const std::string& error,
               const char* count_name = nullptr, std::size_t count = 0);

// With context as text fields before the error ({"route", route}, {"role", "dp"}), each quoted
// as JSON: a request's path or route may carry quotes too.
using LogField = std::pair<const char*, std::string>;
void log_fault(const char* level, const char* msg, const std::string& error,
               std::initializer_list<LogField> context);

}  // namespace ferry::server
