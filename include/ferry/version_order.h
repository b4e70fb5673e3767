// The order of package versions, for dependencies ("hello >= 1.0") and for telling an upgrade
// from a downgrade. Debian's rules, on Ferry's version alphabet (0-9 A-Z a-z . + ~ -): the
// version is compared as alternating runs of non-digits and digits; digit runs compare as
// numbers (so 1.10 > 1.9), non-digit runs character by character where '~' sorts before
// everything, even the end (1.0~rc1 < 1.0), and letters sort before other characters.
#pragma once

#include <string>

namespace ferry {

// Negative, zero or positive as `a` is older than, the same as, or newer than `b`.
int compare_versions(const std::string& a, const std::string& b);

// True when `version` is at least `minimum` (an empty minimum accepts any version).
bool version_at_least(const std::string& version, const std::string& minimum);

}  // namespace ferry
