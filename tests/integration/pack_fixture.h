// Shared fixture for tests that drive the real ferry-pack binary and the reference tools
// (minisign, b2sum, bsdtar) in a temporary directory.
#pragma once

#include <string>
#include <vector>

#include "run_process.h"
#include "temp_dir.h"

namespace ferry::test {

struct PackFixture {
    TempDir dir;
    std::string samples = std::string(FERRY_SOURCE_DIR) + "/samples/packages";

    // Runs ferry-pack with `args` in the temporary directory.
    ProcessResult pack(const std::vector<std::string>& args,
                       const std::string& stdin_text = "") const {
        std::vector<std::string> argv = {FERRY_PACK_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv, stdin_text, dir.path());
    }
    // Runs any program in the temporary directory.
    ProcessResult run(const std::vector<std::string>& argv,
                      const std::string& stdin_text = "") const {
        return run_process(argv, stdin_text, dir.path());
    }
    std::string path(const std::string& name) const { return dir / name; }
};

inline std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace ferry::test
