#include "ferry/version_order.h"

#include <cctype>
#include <cstddef>

namespace ferry {

namespace {

// Debian's weight of one character of a non-digit run; 0 is the end of the run.
int weight(char c) {
    if (c == '~') return -1;
    if (std::isalpha(static_cast<unsigned char>(c))) return c;
    return c + 256;
}

int compare_text_runs(const std::string& a, std::size_t& i, const std::string& b, std::size_t& j) {
    while ((i < a.size() && !std::isdigit(static_cast<unsigned char>(a[i]))) ||
           (j < b.size() && !std::isdigit(static_cast<unsigned char>(b[j])))) {
        const int wa =
            i < a.size() && !std::isdigit(static_cast<unsigned char>(a[i])) ? weight(a[i]) : 0;
        const int wb =
            j < b.size() && !std::isdigit(static_cast<unsigned char>(b[j])) ? weight(b[j]) : 0;
        if (wa != wb) return wa < wb ? -1 : 1;
        ++i;
        ++j;
    }
    return 0;
}

// Compares digit runs as numbers of any length: leading zeros skipped, then length, then text.
int compare_digit_runs(const std::string& a, std::size_t& i, const std::string& b, std::size_t& j) {
    while (i < a.size() && a[i] == '0') ++i;
    while (j < b.size() && b[j] == '0') ++j;
    const std::size_t start_a = i, start_b = j;
    while (i < a.size() && std::isdigit(static_cast<unsigned char>(a[i]))) ++i;
    while (j < b.size() && std::isdigit(static_cast<unsigned char>(b[j]))) ++j;
    const std::size_t length_a = i - start_a, length_b = j - start_b;
    if (length_a != length_b) return length_a < length_b ? -1 : 1;
    const int order = a.compare(start_a, length_a, b, start_b, length_b);
    return order < 0 ? -1 : (order > 0 ? 1 : 0);
}

}  // namespace

int compare_versions(const std::string& a, const std::string& b) {
    std::size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        if (const int order = compare_text_runs(a, i, b, j); order != 0) return order;
        if (const int order = compare_digit_runs(a, i, b, j); order != 0) return order;
    }
    return 0;
}

bool version_at_least(const std::string& version, const std::string& minimum) {
    return minimum.empty() || compare_versions(version, minimum) >= 0;
}

}  // namespace ferry
