// log_fault: one line of ferryd's structured log on stderr for a fault that a background part
// handled (a checkpoint, a batch of contacts, an answer left to the handler):
//   {"level": LEVEL, "msg": MSG, "error": ERROR}
// with ERROR quoted as JSON (it may carry a path or SQL text, quotes and all), and, when
// `count_name` is set, "COUNT_NAME": COUNT before it.
#pragma once

#include <cstddef>
#include <string>

namespace ferry::server {

void log_fault(const char* level, const char* msg, const std::string& error,
               const char* count_name = nullptr, std::size_t count = 0);

}  // namespace ferry::server
