// Running a real program from a test: arguments without a shell, optional stdin, captured
// stdout and stderr, and the exit code.
#pragma once

#include <string>
#include <vector>

namespace ferry::test {

struct ProcessResult {
    int exit_code = -1;  // -1 when killed by a signal
    std::string out;
    std::string err;
};

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_text = "",
                          const std::string& working_dir = "");

// True when `program` is found on PATH.
bool have_program(const std::string& program);

}  // namespace ferry::test
