// Bearer tokens for people, clients and distribution points (DESIGN §5).
//
// A token is 32 random bytes from the operating system's CSPRNG, shown to its owner once as
// "<kind>_<43 base64url characters>" (the kind, e.g. "admin" or "client", only helps a human
// tell tokens apart; it grants nothing). The server stores only token_digest(token): with 256
// bits of entropy a plain BLAKE2b-256 is enough (no password-style stretching needed), and a
// stolen database reveals no usable token. Lookups go by digest, so comparing a presented
// token never depends on the secret byte by byte.
#pragma once

#include <string>

namespace ferry {

// A new token. `kind` must be 1-16 characters of a-z and '-'.
std::string generate_token(const std::string& kind);

// Lowercase hex BLAKE2b-256 of the token's text: what is stored and looked up.
std::string token_digest(const std::string& token);

// True when `token` has the shape generate_token produces (any kind); a cheap check before a
// lookup, so malformed headers are refused without touching the database.
bool is_well_formed_token(const std::string& token);

// Constant-time comparison of two digests of equal length.
bool digests_equal(const std::string& a, const std::string& b);

}  // namespace ferry
