#include "ferry/encoding.h"

#include <sodium.h>

namespace ferry {

std::string to_hex(const std::uint8_t* data, std::size_t size) {
    std::string out(size * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), data, size);
    out.resize(size * 2);
    return out;
}

std::string to_base64(const std::uint8_t* data, std::size_t size) {
    const int variant = sodium_base64_VARIANT_ORIGINAL;
    std::string out(sodium_base64_ENCODED_LEN(size, variant), '\0');
    sodium_bin2base64(out.data(), out.size(), data, size, variant);
    out.resize(out.size() - 1);  // the encoded length counts the terminating NUL
    return out;
}

bool from_base64(std::string_view text, Bytes& out) {
    out.assign(text.size() / 4 * 3 + 3, 0);
    std::size_t written = 0;
    const char* end = nullptr;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &written, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        return false;
    }
    if (end != text.data() + text.size()) return false;  // trailing characters not consumed
    out.resize(written);
    return true;
}

bool is_object_id(std::string_view text) {
    if (text.size() != 64) return false;
    for (char c : text) {
        const bool digit = c >= '0' && c <= '9';
        const bool lower = c >= 'a' && c <= 'f';
        if (!digit && !lower) return false;
    }
    return true;
}

}  // namespace ferry
