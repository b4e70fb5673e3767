#include "ferry/minisign.h"

#include <fcntl.h>
#include <sodium.h>

#include <cstring>
#include <vector>

#include "fd_io.h"
#include "ferry/atomic_file.h"
#include "ferry/encoding.h"
#include "ferry/error.h"
#include "ferry/hash.h"
#include "sodium_init.h"
#include "unique_fd.h"

namespace ferry::minisign {
namespace {

constexpr std::size_t kPublicKeyBytes = 42;
constexpr std::size_t kSecretKeyBytes = 158;
constexpr std::size_t kSignatureBytes = 74;
constexpr std::size_t kKeyFileMax = 4096;
constexpr std::size_t kSignatureFileMax = 4 * kMaxCommentBytes;
// The encrypted tail of a secret key: key id ‖ secret key ‖ check.
constexpr std::size_t kSecretTailBytes = 8 + 64 + 32;
// A key file chooses its own scrypt cost; refuse anything above what minisign itself writes
// (its "sensitive" limits, 1 GiB) so that a hostile file cannot make us allocate more.
constexpr std::uint64_t kMaxMemlimit = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE;
constexpr std::uint64_t kMaxOpslimit = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE;

const std::string kUntrustedPrefix = "untrusted comment: ";
const std::string kTrustedPrefix = "trusted comment: ";

Error invalid(const std::string& source, const std::string& what) {
    return Error(ErrorCode::InvalidInput, source + ": " + what);
}

// Splits text into lines, each of which must end with '\n'. Refuses carriage returns and
// control characters (tab allowed) so that what a human reads is what was signed.
std::vector<std::string> split_strict_lines(const std::string& text, const std::string& source) {
    if (text.empty()) throw invalid(source, "file is empty");
    if (text.back() != '\n') throw invalid(source, "last line has no newline (truncated file?)");
    std::vector<std::string> lines;
    std::string current;
    for (char c : text) {
        if (c == '\n') {
            lines.push_back(current);
            current.clear();
            continue;
        }
        const auto u = static_cast<unsigned char>(c);
        if (c == '\r') {
            throw invalid(
                source, "line " + std::to_string(lines.size() + 1) + " contains a carriage return");
        }
        if ((u < 0x20 && c != '\t') || u == 0x7f) {
            throw invalid(source, "line " + std::to_string(lines.size() + 1) +
                                      " contains a control character");
        }
        current.push_back(c);
    }
    return lines;
}

std::string comment_after(const std::string& line, const std::string& prefix, std::size_t number,
                          const std::string& source) {
    if (line.compare(0, prefix.size(), prefix) != 0) {
        throw invalid(source,
                      "line " + std::to_string(number) + " must start with \"" + prefix + "\"");
    }
    std::string comment = line.substr(prefix.size());
    if (comment.size() > kMaxCommentBytes) {
        throw invalid(source, "line " + std::to_string(number) + ": comment longer than " +
                                  std::to_string(kMaxCommentBytes) + " bytes");
    }
    return comment;
}

Bytes decode_exact(const std::string& b64, std::size_t size, const std::string& what,
                   std::size_t line, const std::string& source) {
    Bytes bytes;
    if (!from_base64(b64, bytes)) {
        throw invalid(source,
                      "line " + std::to_string(line) + ": " + what + " is not valid base64");
    }
    if (bytes.size() != size) {
        throw invalid(source, "line " + std::to_string(line) + ": " + what + " is " +
                                  std::to_string(bytes.size()) + " bytes, expected " +
                                  std::to_string(size));
    }
    return bytes;
}

void check_comment_text(const std::string& comment, const char* which) {
    if (comment.size() > kMaxCommentBytes) {
        throw Error(ErrorCode::InvalidInput, std::string(which) + " comment longer than " +
                                                 std::to_string(kMaxCommentBytes) + " bytes");
    }
    for (char c : comment) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) {
            throw Error(ErrorCode::InvalidInput,
                        std::string(which) + " comment contains a control character");
        }
    }
}

std::uint64_t load_le64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

void store_le64(std::uint8_t* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// BLAKE2b-256 over sig_alg ‖ key id ‖ secret key, minisign's seckey_compute_chk.
void compute_check(const KeyId& key_id, const std::uint8_t* secret, std::uint8_t* out) {
    Blake2b hasher(32);
    hasher.update("Ed", 2);
    hasher.update(key_id.data(), key_id.size());
    hasher.update(secret, 64);
    hasher.finish(out);
}

// Fills `stream` with scrypt(password, salt); the secret tail is XORed with it.
void derive_stream(const std::string& password, const std::uint8_t* salt, std::uint64_t opslimit,
                   std::uint64_t memlimit, SecureBuffer& stream) {
    if (crypto_pwhash_scryptsalsa208sha256(stream.data(), stream.size(), password.data(),
                                           password.size(), salt, opslimit,
                                           static_cast<std::size_t>(memlimit)) != 0) {
        throw Error(ErrorCode::Internal, "scrypt key derivation failed (out of memory?)");
    }
}

}  // namespace

// ---- public key ----

PublicKey PublicKey::parse(const std::string& text, const std::string& source) {
    std::string b64;
    if (text.compare(0, kUntrustedPrefix.size(), kUntrustedPrefix) == 0) {
        const auto lines = split_strict_lines(text, source);
        if (lines.size() != 2) throw invalid(source, "a public key file has exactly 2 lines");
        comment_after(lines[0], kUntrustedPrefix, 1, source);
        b64 = lines[1];
    } else {
        b64 = text;
        while (!b64.empty() && b64.back() == '\n') b64.pop_back();
    }
    const Bytes raw = decode_exact(b64, kPublicKeyBytes, "public key", 2, source);
    if (raw[0] != 'E' || raw[1] != 'd') throw invalid(source, "unknown public key algorithm");
    PublicKey key;
    std::memcpy(key.key_id.data(), raw.data() + 2, 8);
    std::memcpy(key.key.data(), raw.data() + 10, 32);
    return key;
}

PublicKey PublicKey::load(const std::string& path) {
    return parse(read_small_file(path, kKeyFileMax), path);
}

std::string PublicKey::to_base64() const {
    std::uint8_t raw[kPublicKeyBytes];
    raw[0] = 'E';
    raw[1] = 'd';
    std::memcpy(raw + 2, key_id.data(), 8);
    std::memcpy(raw + 10, key.data(), 32);
    return ferry::to_base64(raw, sizeof raw);
}

std::string PublicKey::to_file_text() const {
    return kUntrustedPrefix + "minisign public key " + key_id_hex() + "\n" + to_base64() + "\n";
}

std::string PublicKey::key_id_hex() const {
    static const char digits[] = "0123456789ABCDEF";
    std::string out;
    for (int i = 7; i >= 0; --i) {
        out.push_back(digits[key_id[i] >> 4]);
        out.push_back(digits[key_id[i] & 0xf]);
    }
    return out;
}

// ---- secret key ----

SecretKey::SecretKey() : secret_(64) {}

SecretKey SecretKey::generate() {
    ensure_sodium();
    SecretKey key;
    std::array<std::uint8_t, 32> pk{};
    crypto_sign_keypair(pk.data(), key.secret_.data());
    randombytes_buf(key.key_id_.data(), key.key_id_.size());
    return key;
}

SecretKey SecretKey::parse(const std::string& text, const std::string& source,
                           const PasswordProvider& password) {
    ensure_sodium();
    auto lines = split_strict_lines(text, source);
    SecureBuffer raw(kSecretKeyBytes);
    try {
        if (lines.size() != 2) throw invalid(source, "a secret key file has exactly 2 lines");
        comment_after(lines[0], kUntrustedPrefix, 1, source);
        Bytes decoded = decode_exact(lines[1], kSecretKeyBytes, "secret key", 2, source);
        std::memcpy(raw.data(), decoded.data(), kSecretKeyBytes);
        sodium_memzero(decoded.data(), decoded.size());
    } catch (...) {
        for (auto& line : lines) wipe(line);
        throw;
    }
    for (auto& line : lines) wipe(line);
    const std::uint8_t* p = raw.data();
    if (p[0] != 'E' || p[1] != 'd')
        throw invalid(source, "unknown signature algorithm in secret key");
    if (p[4] != 'B' || p[5] != '2')
        throw invalid(source, "unknown checksum algorithm in secret key");
    const bool encrypted = p[2] == 'S' && p[3] == 'c';
    const bool plain = p[2] == 0 && p[3] == 0;
    if (!encrypted && !plain)
        throw invalid(source, "unknown key derivation algorithm in secret key");

    std::uint8_t* tail = raw.data() + 54;  // key id ‖ secret ‖ check
    if (encrypted) {
        const std::uint64_t opslimit = load_le64(p + 38);
        const std::uint64_t memlimit = load_le64(p + 46);
        if (opslimit > kMaxOpslimit || memlimit > kMaxMemlimit) {
            throw invalid(source, "scrypt limits in secret key are unreasonably high");
        }
        if (!password)
            throw Error(ErrorCode::WrongPassword,
                        source + ": key is encrypted, a password is needed");
        std::string pw = password();
        SecureBuffer stream(kSecretTailBytes);
        try {
            derive_stream(pw, p + 6, opslimit, memlimit, stream);
        } catch (...) {
            wipe(pw);
            throw;
        }
        wipe(pw);
        for (std::size_t i = 0; i < kSecretTailBytes; ++i) tail[i] ^= stream.data()[i];
    }

    SecretKey key;
    std::memcpy(key.key_id_.data(), tail, 8);
    std::memcpy(key.secret_.data(), tail + 8, 64);
    // minisign -G -W keys carry an all-zero check, so an unencrypted key is checked only when
    // its check is set; for an encrypted key a mismatch can only mean a wrong password.
    std::uint8_t check[32];
    compute_check(key.key_id_, key.secret_.data(), check);
    const bool check_set = !sodium_is_zero(tail + 72, 32);
    if ((encrypted || check_set) && sodium_memcmp(check, tail + 72, 32) != 0) {
        if (encrypted)
            throw Error(ErrorCode::WrongPassword, source + ": wrong password for this secret key");
        throw invalid(source, "secret key is damaged (its checksum does not match)");
    }
    return key;
}

SecretKey SecretKey::load(const std::string& path, const PasswordProvider& password) {
    // For an unencrypted key the file text is the secret: wipe it whatever happens.
    std::string text = read_small_file(path, kKeyFileMax);
    try {
        SecretKey key = parse(text, path, password);
        wipe(text);
        return key;
    } catch (...) {
        wipe(text);
        throw;
    }
}

std::string SecretKey::to_file_text(const std::optional<std::string>& password) const {
    SecureBuffer raw(kSecretKeyBytes);
    std::uint8_t* p = raw.data();
    p[0] = 'E';
    p[1] = 'd';
    p[4] = 'B';
    p[5] = '2';
    std::uint8_t* tail = p + 54;
    std::memcpy(tail, key_id_.data(), 8);
    std::memcpy(tail + 8, secret_.data(), 64);
    compute_check(key_id_, secret_.data(), tail + 72);
    if (password) {
        p[2] = 'S';
        p[3] = 'c';
        randombytes_buf(p + 6, 32);
        const std::uint64_t opslimit = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE;
        const std::uint64_t memlimit = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE;
        store_le64(p + 38, opslimit);
        store_le64(p + 46, memlimit);
        SecureBuffer stream(kSecretTailBytes);
        derive_stream(*password, p + 6, opslimit, memlimit, stream);
        for (std::size_t i = 0; i < kSecretTailBytes; ++i) tail[i] ^= stream.data()[i];
    }
    const std::string comment = password ? "minisign encrypted secret key" : "minisign secret key";
    return kUntrustedPrefix + comment + "\n" + ferry::to_base64(raw.data(), raw.size()) + "\n";
}

PublicKey SecretKey::public_key() const {
    PublicKey pub;
    pub.key_id = key_id_;
    crypto_sign_ed25519_sk_to_pk(pub.key.data(), secret_.data());
    return pub;
}

// ---- signatures ----

Signature Signature::parse(const std::string& text, const std::string& source) {
    if (text.size() > kSignatureFileMax) throw invalid(source, "signature file is too large");
    const auto lines = split_strict_lines(text, source);
    if (lines.size() != 4) {
        throw invalid(
            source, "a signature file has exactly 4 lines, found " + std::to_string(lines.size()));
    }
    Signature sig;
    sig.untrusted_comment = comment_after(lines[0], kUntrustedPrefix, 1, source);
    Bytes raw;
    if (!from_base64(lines[1], raw)) throw invalid(source, "line 2: signature is not valid base64");
    if (raw.size() >= 2 && raw[0] == 'E' && raw[1] == 'd') {
        throw invalid(source,
                      "legacy (non-prehashed) \"Ed\" signatures are not accepted; sign with "
                      "a minisign that uses the prehashed \"ED\" algorithm");
    }
    if (raw.size() != kSignatureBytes) {
        throw invalid(source, "line 2: signature is " + std::to_string(raw.size()) +
                                  " bytes, expected " + std::to_string(kSignatureBytes));
    }
    if (raw[0] != 'E' || raw[1] != 'D') throw invalid(source, "unknown signature algorithm");
    std::memcpy(sig.key_id.data(), raw.data() + 2, 8);
    std::memcpy(sig.signature.data(), raw.data() + 10, 64);
    sig.trusted_comment = comment_after(lines[2], kTrustedPrefix, 3, source);
    const Bytes global = decode_exact(lines[3], 64, "global signature", 4, source);
    std::memcpy(sig.global_signature.data(), global.data(), 64);
    return sig;
}

Signature Signature::load(const std::string& path) {
    return parse(read_small_file(path, kSignatureFileMax), path);
}

std::string Signature::to_file_text() const {
    std::uint8_t raw[kSignatureBytes];
    raw[0] = 'E';
    raw[1] = 'D';
    std::memcpy(raw + 2, key_id.data(), 8);
    std::memcpy(raw + 10, signature.data(), 64);
    return kUntrustedPrefix + untrusted_comment + "\n" + to_base64(raw, sizeof raw) + "\n" +
           kTrustedPrefix + trusted_comment + "\n" +
           to_base64(global_signature.data(), global_signature.size()) + "\n";
}

Signature sign_prehash_unchecked(const SecretKey& key, const Prehash& prehash,
                                 const std::string& trusted_comment,
                                 const std::string& untrusted_comment) {
    ensure_sodium();
    check_comment_text(trusted_comment, "trusted");
    check_comment_text(untrusted_comment, "untrusted");
    Signature sig;
    sig.key_id = key.key_id();
    sig.trusted_comment = trusted_comment;
    sig.untrusted_comment = untrusted_comment;
    crypto_sign_detached(sig.signature.data(), nullptr, prehash.data(), prehash.size(),
                         key.secret_bytes());
    std::vector<std::uint8_t> global(sig.signature.begin(), sig.signature.end());
    global.insert(global.end(), trusted_comment.begin(), trusted_comment.end());
    crypto_sign_detached(sig.global_signature.data(), nullptr, global.data(), global.size(),
                         key.secret_bytes());
    return sig;
}

Signature sign_prehash(const SecretKey& key, const Prehash& prehash,
                       const std::string& trusted_comment, const std::string& untrusted_comment) {
    Signature sig = sign_prehash_unchecked(key, prehash, trusted_comment, untrusted_comment);
    // Fail closed, as minisign does: never hand out a signature that does not verify.
    verify_prehash(key.public_key(), sig, prehash);
    return sig;
}

void verify_prehash(const PublicKey& key, const Signature& sig, const Prehash& prehash) {
    ensure_sodium();
    if (sig.key_id != key.key_id) {
        PublicKey other;
        other.key_id = sig.key_id;
        throw Error(ErrorCode::VerificationFailed,
                    "signature was made by key " + other.key_id_hex() +
                        ", not by the trusted key " + key.key_id_hex());
    }
    if (crypto_sign_verify_detached(sig.signature.data(), prehash.data(), prehash.size(),
                                    key.key.data()) != 0) {
        throw Error(ErrorCode::VerificationFailed,
                    "signature verification failed: the file or the signature was altered, or "
                    "the key is not the one that signed");
    }
    std::vector<std::uint8_t> global(sig.signature.begin(), sig.signature.end());
    global.insert(global.end(), sig.trusted_comment.begin(), sig.trusted_comment.end());
    if (crypto_sign_verify_detached(sig.global_signature.data(), global.data(), global.size(),
                                    key.key.data()) != 0) {
        throw Error(ErrorCode::VerificationFailed,
                    "trusted comment verification failed: the trusted comment was altered");
    }
}

Prehash prehash_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_system_error("cannot open " + path);
    Blake2b hasher(64);
    std::vector<char> buffer(1 << 20);
    while (const std::size_t n = read_some(fd.get(), buffer.data(), buffer.size(), path))
        hasher.update(buffer.data(), n);
    Prehash out{};
    hasher.finish(out.data());
    return out;
}

}  // namespace ferry::minisign
