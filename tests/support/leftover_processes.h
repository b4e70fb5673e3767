// What a test that starts daemons checks at its end: nothing it started is still running.
// Processes are found by a directory their command line names (each test's own temporary
// directory), so other tests running at the same time are never counted.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace ferry::test {

// The processes (other than this one) whose command line names `dir/`: "PID: COMMAND LINE".
std::vector<std::string> running_in(const std::string& dir);
// running_in(dir), once it is empty or `limit` has passed (a process killed a moment ago may
// linger briefly).
std::vector<std::string> left_after(const std::string& dir, std::chrono::milliseconds limit);
// The lines, each ended by a newline (for a failure message).
std::string joined(const std::vector<std::string>& lines);

}  // namespace ferry::test
