// Progress reporting for long operations: a callback given bytes done and bytes in all.
// Libraries call it; only programs decide whether and how to show it.
#pragma once

#include <cstdint>
#include <functional>

namespace ferry {

using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

}  // namespace ferry
