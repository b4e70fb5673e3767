// minisign-compatible Ed25519 keys and signatures.
//
// Byte layouts (minisign 0.11):
//   public key  42 bytes  "Ed" | key id (8) | Ed25519 public key (32)
//   secret key 158 bytes  "Ed" | kdf ("Sc" or 00 00) | "B2" | salt (32) | opslimit (u64 le) |
//                         memlimit (u64 le) | key id (8) | Ed25519 secret key (64) | check (32)
//                         the last 104 bytes XORed with scrypt(password, salt) when kdf is "Sc"
//   signature   74 bytes  "ED" | key id (8) | Ed25519 signature over BLAKE2b-512(file)
// A .minisig file is four newline-terminated lines: "untrusted comment: …", the base64
// signature, "trusted comment: …", and the base64 global signature (Ed25519 over the 64
// signature bytes followed by the trusted comment text).
//
// Ferry signs only with the prehashed "ED" algorithm and refuses the legacy "Ed" one. All
// parsers refuse anything that is not exactly this shape with an Error(InvalidInput) naming
// the source and the line; signature checks throw Error(VerificationFailed).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "ferry/secure_buffer.h"

namespace ferry::minisign {

using KeyId = std::array<std::uint8_t, 8>;
using Prehash = std::array<std::uint8_t, 64>;  // BLAKE2b-512 of the signed file

// Longest comment text minisign accepts (its COMMENTMAXBYTES), and so the longest Ferry writes.
constexpr std::size_t kMaxCommentBytes = 1024;

struct PublicKey {
    KeyId key_id{};
    std::array<std::uint8_t, 32> key{};

    // Parses a .pub file's text (comment line + base64 line) or a bare base64 key.
    // `source` names the file in error messages.
    static PublicKey parse(const std::string& text, const std::string& source);
    static PublicKey load(const std::string& path);

    std::string to_base64() const;
    std::string to_file_text() const;
    // The key id as minisign prints it: 16 uppercase hex digits of the little-endian u64.
    std::string key_id_hex() const;

    bool operator==(const PublicKey& other) const {
        return key_id == other.key_id && key == other.key;
    }
    bool operator!=(const PublicKey& other) const { return !(*this == other); }
};

// Asks for a password when a secret key needs one; may throw to abort.
using PasswordProvider = std::function<std::string()>;

// An Ed25519 secret key with its key id. The key bytes live in guarded memory and are wiped on
// destruction. Move-only.
class SecretKey {
  public:
    // Parses a .key file's text. Encrypted keys call `password` once; a wrong password gives
    // Error(WrongPassword). Unencrypted keys (minisign -G -W) never call it.
    static SecretKey parse(const std::string& text, const std::string& source,
                           const PasswordProvider& password);
    static SecretKey load(const std::string& path, const PasswordProvider& password);

    // A new random key pair with a random key id.
    static SecretKey generate();

    // The .key file text; encrypted with scrypt (minisign's "sensitive" limits) when a
    // password is given.
    std::string to_file_text(const std::optional<std::string>& password) const;

    PublicKey public_key() const;
    const KeyId& key_id() const { return key_id_; }
    const std::uint8_t* secret_bytes() const { return secret_.data(); }

  private:
    SecretKey();
    KeyId key_id_{};
    SecureBuffer secret_;  // 64 bytes: Ed25519 seed ‖ public key, as libsodium lays it out
};

struct Signature {
    KeyId key_id{};
    std::array<std::uint8_t, 64> signature{};
    std::string untrusted_comment;
    std::string trusted_comment;
    std::array<std::uint8_t, 64> global_signature{};

    // Parses .minisig text. Refuses the legacy "Ed" algorithm, wrong struct sizes, bad base64,
    // carriage returns or control characters, comments longer than kMaxCommentBytes, and
    // missing or extra lines.
    static Signature parse(const std::string& text, const std::string& source);
    static Signature load(const std::string& path);

    std::string to_file_text() const;
};

// Signs a prehash. `trusted_comment` must be at most kMaxCommentBytes of printable text (tabs
// allowed); the result is checked against the key's public half before it is returned.
Signature sign_prehash(const SecretKey& key, const Prehash& prehash,
                       const std::string& trusted_comment, const std::string& untrusted_comment);
// The same without the check afterwards, for a signer of many documents (the site signing
// every client's policy) that has checked the key pair once with sign_prehash: the check costs
// twice the signing.
Signature sign_prehash_unchecked(const SecretKey& key, const Prehash& prehash,
                                 const std::string& trusted_comment,
                                 const std::string& untrusted_comment);

// Verifies both signatures against `key`. Throws Error(VerificationFailed) saying which check
// failed: a key id that is not this key's, a bad signature, or a bad trusted comment signature.
void verify_prehash(const PublicKey& key, const Signature& signature, const Prehash& prehash);

// BLAKE2b-512 of a file, the input of "ED" signatures.
Prehash prehash_file(const std::string& path);

}  // namespace ferry::minisign
