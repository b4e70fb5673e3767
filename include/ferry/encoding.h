// Hex and base64 codecs (libsodium's constant-time implementations underneath).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

using Bytes = std::vector<std::uint8_t>;

// Lowercase hex of the bytes.
std::string to_hex(const std::uint8_t* data, std::size_t size);
inline std::string to_hex(const Bytes& bytes) { return to_hex(bytes.data(), bytes.size()); }

// Standard base64 with padding, as minisign writes it.
std::string to_base64(const std::uint8_t* data, std::size_t size);

// Decodes standard padded base64. Returns false on any character outside the alphabet
// (whitespace included), bad padding, or trailing garbage; `out` is then unspecified.
bool from_base64(std::string_view text, Bytes& out);

// True when `text` is exactly 64 lowercase hex digits: the form of an object id.
bool is_object_id(std::string_view text);

}  // namespace ferry
