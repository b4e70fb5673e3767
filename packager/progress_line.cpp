#include "progress_line.h"

#include <unistd.h>

#include <cstdio>

#include "interrupt.h"

namespace ferry::pack {

using Clock = std::chrono::steady_clock;

ProgressLine::ProgressLine(std::string label)
    : label_(std::move(label)), enabled_(::isatty(STDERR_FILENO) == 1), start_(Clock::now()) {}

ProgressLine::~ProgressLine() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
}

void ProgressLine::update(std::uint64_t done, std::uint64_t total) {
    check_interrupted();  // progress points are where a command may stop cleanly
    if (!enabled_) return;
    const auto now = Clock::now();
    if (now - start_ < std::chrono::seconds(1)) return;
    if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    drawn_ = true;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double mib = static_cast<double>(done) / (1 << 20);
    const int percent = total > 0 ? static_cast<int>(done * 100 / total) : 0;
    std::fprintf(stderr, "\r\033[K%s %3d%%  %.0f MiB  %.0f MiB/s", label_.c_str(), percent, mib,
                 seconds > 0 ? mib / seconds : 0.0);
    std::fflush(stderr);
}

ProgressFn ProgressLine::callback() {
    return [this](std::uint64_t done, std::uint64_t total) { update(done, total); };
}

}  // namespace ferry::pack
