#define BOOST_TEST_MODULE minisign
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <cstring>

#include "expect_error.h"
#include "ferry/atomic_file.h"
#include "ferry/encoding.h"
#include "ferry/hash.h"
#include "ferry/minisign.h"
#include "ferry/package_signature.h"
#include "temp_dir.h"

using namespace ferry;
using namespace ferry::minisign;
using ferry::test::expect_error;

namespace {

Prehash prehash_of(const std::string& text) {
    Prehash out{};
    Blake2b hasher(64);
    hasher.update(text.data(), text.size());
    hasher.finish(out.data());
    return out;
}

PasswordProvider no_password() {
    return []() -> std::string { throw std::runtime_error("no password expected"); };
}

// Re-encodes line 2 of a .minisig with the raw struct changed by `edit`.
std::string edit_signature_struct(const std::string& text,
                                  const std::function<void(Bytes&)>& edit) {
    const auto first = text.find('\n');
    const auto second = text.find('\n', first + 1);
    Bytes raw;
    BOOST_REQUIRE(from_base64(text.substr(first + 1, second - first - 1), raw));
    edit(raw);
    return text.substr(0, first + 1) + to_base64(raw.data(), raw.size()) + text.substr(second);
}

struct SignedFixture {
    SecretKey key = SecretKey::generate();
    PublicKey pub = key.public_key();
    Prehash prehash = prehash_of("package bytes");
    Signature sig = sign_prehash(key, prehash, "timestamp:1\tpackage:hello", "ferry test");
    std::string text = sig.to_file_text();
};

}  // namespace

BOOST_AUTO_TEST_CASE(SignatureRoundTripsThroughItsFileFormat) {
    SignedFixture f;
    const Signature parsed = Signature::parse(f.text, "t.minisig");
    BOOST_TEST(parsed.trusted_comment == "timestamp:1\tpackage:hello");
    BOOST_TEST(parsed.untrusted_comment == "ferry test");
    verify_prehash(f.pub, parsed, f.prehash);
    BOOST_TEST(parsed.to_file_text() == f.text);
}

BOOST_AUTO_TEST_CASE(RejectsSignatureOverDifferentBytes) {
    SignedFixture f;
    expect_error([&] { verify_prehash(f.pub, f.sig, prehash_of("other bytes")); },
                 ErrorCode::VerificationFailed, "signature verification failed");
}

BOOST_AUTO_TEST_CASE(RejectsSignatureByAnotherKeyNamingBothKeyIds) {  // THREATS 2
    SignedFixture f;
    const PublicKey other = SecretKey::generate().public_key();
    const std::string message =
        expect_error([&] { verify_prehash(other, f.sig, f.prehash); },
                     ErrorCode::VerificationFailed, "not by the trusted key");
    BOOST_TEST(message.find(f.pub.key_id_hex()) != std::string::npos);
    BOOST_TEST(message.find(other.key_id_hex()) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(RejectsTrustedKeyIdWithADifferentPublicKey) {  // THREATS 3
    SignedFixture f;
    PublicKey impostor = SecretKey::generate().public_key();
    impostor.key_id = f.pub.key_id;
    expect_error([&] { verify_prehash(impostor, f.sig, f.prehash); }, ErrorCode::VerificationFailed,
                 "signature verification failed");
}

BOOST_AUTO_TEST_CASE(RejectsLegacyEdSignatures) {  // THREATS 4
    SignedFixture f;
    const std::string legacy = edit_signature_struct(f.text, [](Bytes& raw) { raw[1] = 'd'; });
    expect_error([&] { Signature::parse(legacy, "legacy.minisig"); }, ErrorCode::InvalidInput,
                 "legacy (non-prehashed) \"Ed\" signatures are not accepted");
}

BOOST_AUTO_TEST_CASE(RejectsAnEditedTrustedComment) {  // THREATS 5
    SignedFixture f;
    std::string edited = f.text;
    const auto at = edited.find("package:hello");
    edited.replace(at, 13, "package:evil!");
    const Signature parsed = Signature::parse(edited, "edited.minisig");
    expect_error([&] { verify_prehash(f.pub, parsed, f.prehash); }, ErrorCode::VerificationFailed,
                 "trusted comment verification failed");
}

BOOST_AUTO_TEST_CASE(MalformedSignatureFilesGiveCleanParseErrors) {  // THREATS 6
    SignedFixture f;
    const auto lines_of = [&](std::size_t n) {
        std::size_t pos = 0;
        for (std::size_t i = 0; i < n; ++i) pos = f.text.find('\n', pos) + 1;
        return pos;
    };
    const std::size_t line2 = lines_of(1);
    std::string bad_base64 = f.text;
    bad_base64[line2 + 5] = '*';
    expect_error([&] { Signature::parse(bad_base64, "s"); }, ErrorCode::InvalidInput,
                 "line 2: signature is not valid base64");

    const std::string short73 = edit_signature_struct(f.text, [](Bytes& raw) { raw.pop_back(); });
    expect_error([&] { Signature::parse(short73, "s"); }, ErrorCode::InvalidInput,
                 "73 bytes, expected 74");
    const std::string long75 = edit_signature_struct(f.text, [](Bytes& raw) { raw.push_back(0); });
    expect_error([&] { Signature::parse(long75, "s"); }, ErrorCode::InvalidInput,
                 "75 bytes, expected 74");

    std::string with_cr = f.text;
    with_cr.insert(lines_of(3) - 1, "\r");
    expect_error([&] { Signature::parse(with_cr, "s"); }, ErrorCode::InvalidInput,
                 "line 3 contains a carriage return");

    std::string with_control = f.text;
    with_control.insert(lines_of(2) + 20, "\x1b[2J");
    expect_error([&] { Signature::parse(with_control, "s"); }, ErrorCode::InvalidInput,
                 "line 3 contains a control character");

    std::string no_newline = f.text;
    no_newline.pop_back();
    expect_error([&] { Signature::parse(no_newline, "s"); }, ErrorCode::InvalidInput, "no newline");

    std::string huge_comment = f.text;
    huge_comment.insert(lines_of(2) + 17, std::string(8192, 'A'));
    expect_error([&] { Signature::parse(huge_comment, "s"); }, ErrorCode::InvalidInput,
                 "too large");
    std::string long_comment = f.text;
    long_comment.insert(lines_of(2) + 17, std::string(1100, 'A'));
    expect_error([&] { Signature::parse(long_comment, "s"); }, ErrorCode::InvalidInput,
                 "comment longer than 1024 bytes");

    expect_error([&] { Signature::parse(f.text.substr(0, lines_of(3)), "s"); },
                 ErrorCode::InvalidInput, "exactly 4 lines");
    expect_error([&] { Signature::parse("", "s"); }, ErrorCode::InvalidInput, "empty");
    std::string wrong_prefix = f.text;
    wrong_prefix.replace(lines_of(2), 7, "TRUSTED");
    expect_error([&] { Signature::parse(wrong_prefix, "s"); }, ErrorCode::InvalidInput,
                 "must start with \"trusted comment: \"");
}

BOOST_AUTO_TEST_CASE(SigningRefusesControlCharactersInTheTrustedComment) {
    const SecretKey key = SecretKey::generate();
    expect_error([&] { sign_prehash(key, prehash_of("x"), "a\nb", "u"); }, ErrorCode::InvalidInput,
                 "control character");
    expect_error([&] { sign_prehash(key, prehash_of("x"), std::string(1025, 'a'), "u"); },
                 ErrorCode::InvalidInput, "longer than 1024");
}

BOOST_AUTO_TEST_CASE(UnencryptedKeyRoundTripsAndNeverAsksForAPassword) {
    const SecretKey key = SecretKey::generate();
    const std::string text = key.to_file_text(std::nullopt);
    const SecretKey loaded = SecretKey::parse(text, "k.key", no_password());
    BOOST_TEST(loaded.public_key().to_base64() == key.public_key().to_base64());
    const PublicKey pub = PublicKey::parse(key.public_key().to_file_text(), "k.pub");
    BOOST_TEST(pub.to_base64() == key.public_key().to_base64());
    BOOST_TEST(PublicKey::parse(pub.to_base64(), "inline").to_base64() == pub.to_base64());
}

BOOST_AUTO_TEST_CASE(EncryptedKeyNeedsTheRightPassword) {  // THREATS 7 (wrong password says so)
    const SecretKey key = SecretKey::generate();
    const std::string text = key.to_file_text(std::string("correct horse"));
    const SecretKey loaded =
        SecretKey::parse(text, "k.key", [] { return std::string("correct horse"); });
    BOOST_TEST(loaded.public_key().to_base64() == key.public_key().to_base64());
    expect_error([&] { SecretKey::parse(text, "k.key", [] { return std::string("wrong"); }); },
                 ErrorCode::WrongPassword, "k.key: wrong password");
}

BOOST_AUTO_TEST_CASE(KeyWithAllZeroCheckAndNoKdfLoads) {
    // What minisign -G -W writes: kdf 00 00, check field all zero.
    const SecretKey key = SecretKey::generate();
    std::string text = key.to_file_text(std::nullopt);
    text = edit_signature_struct(text, [](Bytes& raw) { std::memset(raw.data() + 126, 0, 32); });
    const SecretKey loaded = SecretKey::parse(text, "w.key", no_password());
    BOOST_TEST(loaded.public_key().to_base64() == key.public_key().to_base64());
}

BOOST_AUTO_TEST_CASE(MalformedKeysAreRefused) {
    const SecretKey key = SecretKey::generate();
    const std::string pub_text = key.public_key().to_file_text();
    const std::string bad_alg = edit_signature_struct(pub_text, [](Bytes& raw) { raw[1] = 'X'; });
    expect_error([&] { PublicKey::parse(bad_alg, "p.pub"); }, ErrorCode::InvalidInput,
                 "unknown public key algorithm");
    const std::string short_key =
        edit_signature_struct(pub_text, [](Bytes& raw) { raw.pop_back(); });
    expect_error([&] { PublicKey::parse(short_key, "p.pub"); }, ErrorCode::InvalidInput,
                 "41 bytes, expected 42");
    const std::string bad_kdf =
        edit_signature_struct(key.to_file_text(std::nullopt), [](Bytes& raw) { raw[2] = 'Z'; });
    expect_error([&] { SecretKey::parse(bad_kdf, "k.key", no_password()); },
                 ErrorCode::InvalidInput, "unknown key derivation algorithm");
}

BOOST_AUTO_TEST_CASE(KeyIdIsPrintedAsMinisignDoes) {
    PublicKey pub;
    const std::uint8_t id[8] = {0x95, 0xeb, 0x71, 0xda, 0xe6, 0x72, 0xb2, 0x16};
    std::memcpy(pub.key_id.data(), id, 8);
    BOOST_TEST(pub.key_id_hex() == "16B272E6DA71EB95");
}

BOOST_AUTO_TEST_CASE(TrustedCommentMustNamePackageVersionAndObject) {
    const PackageClaims claims = parse_trusted_comment(
        "timestamp:5\tfile:a.ferry\tpackage:hello\tversion:1.0\tobject:" + std::string(64, 'a'));
    BOOST_TEST(claims.name == "hello");
    BOOST_TEST(claims.version == "1.0");
    BOOST_TEST(claims.object_id == std::string(64, 'a'));
    expect_error([] { parse_trusted_comment("timestamp:5\tfile:a\thashed"); },
                 ErrorCode::VerificationFailed, "does not name the package, version and object");
    expect_error([] { parse_trusted_comment("package:a\tpackage:b\tversion:1\tobject:x"); },
                 ErrorCode::VerificationFailed, "twice");
}

BOOST_AUTO_TEST_CASE(PackageSignatureIsBoundToNameVersionAndObject) {  // THREATS 12/13 groundwork
    test::TempDir dir;
    test::write_file(dir / "p.ferry", "not really a package, but bytes");
    const SecretKey key = SecretKey::generate();
    const FileDigest digest = digest_file(dir / "p.ferry");
    BOOST_TEST(digest.object_id == hash_file(dir / "p.ferry"));
    Manifest m;
    m.name = "hello";
    m.version = "1.0";
    const Signature sig = sign_package(key, digest, m, "p.ferry");
    verify_package_signature(key.public_key(), sig, digest, m);

    Manifest other = m;
    other.version = "1.1";
    expect_error([&] { verify_package_signature(key.public_key(), sig, digest, other); },
                 ErrorCode::VerificationFailed,
                 "the signature is for hello 1.0, but the package is hello 1.1");
    other = m;
    other.name = "evil";
    expect_error([&] { verify_package_signature(key.public_key(), sig, digest, other); },
                 ErrorCode::VerificationFailed, "but the package is evil 1.0");
}

BOOST_AUTO_TEST_CASE(SecretKeyFilesAreWrittenOwnerOnly) {
    // AtomicFile gives the mode exactly, whatever the umask.
    test::TempDir dir;
    const mode_t old = ::umask(0);
    write_file_atomically(dir / "k.key", SecretKey::generate().to_file_text(std::nullopt), 0600);
    ::umask(old);
    struct stat st {};
    BOOST_REQUIRE(::stat((dir / "k.key").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
}

BOOST_AUTO_TEST_CASE(KeyAskingForMoreScryptWorkThanMinisignIsRefused) {
    // A hostile key file must not be able to make us allocate gigabytes before the password check.
    const SecretKey key = SecretKey::generate();
    const std::string text = edit_signature_struct(key.to_file_text(std::nullopt), [](Bytes& raw) {
        raw[2] = 'S';
        raw[3] = 'c';
        raw[46 + 4] = 1;  // memlimit 2^32 bytes
    });
    expect_error([&] { SecretKey::parse(text, "hostile.key", [] { return std::string("x"); }); },
                 ErrorCode::InvalidInput, "scrypt limits in secret key are unreasonably high");
}

BOOST_AUTO_TEST_CASE(DamagedUnencryptedKeyIsReportedAsDamaged) {
    const SecretKey key = SecretKey::generate();
    const std::string text =
        edit_signature_struct(key.to_file_text(std::nullopt), [](Bytes& raw) { raw[70] ^= 1; });
    expect_error([&] { SecretKey::parse(text, "k.key", no_password()); }, ErrorCode::InvalidInput,
                 "secret key is damaged");
}
