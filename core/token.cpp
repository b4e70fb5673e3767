#include "ferry/token.h"

#include <sodium.h>

#include <algorithm>

#include "ferry/error.h"
#include "ferry/hash.h"
#include "sodium_init.h"

namespace ferry {
namespace {

constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kEncodedBytes = 43;  // base64url of 32 bytes, no padding

bool valid_kind(const std::string& kind) {
    return !kind.empty() && kind.size() <= 16 && std::all_of(kind.begin(), kind.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || c == '-';
    });
}

}  // namespace

std::string generate_token(const std::string& kind) {
    if (!valid_kind(kind))
        throw Error(ErrorCode::Internal, "token kind must be 1-16 characters of a-z and '-'");
    ensure_sodium();
    unsigned char secret[kSecretBytes];
    randombytes_buf(secret, sizeof secret);
    const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    char encoded[sodium_base64_ENCODED_LEN(kSecretBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(encoded, sizeof encoded, secret, sizeof secret, variant);
    sodium_memzero(secret, sizeof secret);
    return kind + "_" + encoded;
}

std::string token_digest(const std::string& token) {
    return hash_bytes(token.data(), token.size());
}

bool is_well_formed_token(const std::string& token) {
    const auto underscore = token.find('_');  // kinds have none; the secret may
    if (underscore == std::string::npos || !valid_kind(token.substr(0, underscore))) return false;
    const std::string secret = token.substr(underscore + 1);
    return secret.size() == kEncodedBytes && std::all_of(secret.begin(), secret.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
           });
}

bool digests_equal(const std::string& a, const std::string& b) {
    return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ferry
