// ProgressLine: a one-line progress display on stderr for work that takes more than a second.
// Silent when stderr is not a terminal, so logs and pipes never see it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "ferry/progress.h"

namespace ferry::pack {

class ProgressLine {
  public:
    explicit ProgressLine(std::string label);
    ~ProgressLine();  // clears the line if one was drawn

    // Draws the line; throws Interrupted after Ctrl-C so the command unwinds and cleans up.
    void update(std::uint64_t done, std::uint64_t total);
    // A ProgressFn that forwards here.
    ProgressFn callback();

  private:
    std::string label_;
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace ferry::pack
