// ferry-pack as a new user meets it: the real binary, the sample packages, and the reference
// tools it must agree with (minisign, b2sum -l 256, bsdtar).
#define BOOST_TEST_MODULE ferry_pack_cli
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "archive_builder.h"
#include "ferry/minisign.h"
#include "ferry/package_signature.h"
#include "pack_fixture.h"

using namespace ferry;
using namespace ferry::test;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

void flip_byte(const std::string& path, long offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(offset);
    char c = 0;
    f.get(c);
    f.seekp(offset);
    f.put(static_cast<char>(c ^ 0x01));
}

// Keys and a signed hello-1.0 shared by most cases.
struct SignedHello : PackFixture {
    std::string id;
    SignedHello() {
        BOOST_REQUIRE_EQUAL(pack({"keygen", "-o", "k"}).exit_code, 0);
        const auto build =
            pack({"build", samples + "/hello-1.0", "-o", "hello.ferry", "--key", "k.key"});
        BOOST_REQUIRE_MESSAGE(build.exit_code == 0, build.err);
        id = trim(build.out);
    }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(KeygenWritesOwnerOnlySecretKeyAndRefusesToOverwrite, PackFixture) {
    const auto r = pack({"keygen", "-o", "k"});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    struct stat st {};
    BOOST_REQUIRE(::stat(path("k.key").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    BOOST_TEST(path_exists(path("k.pub")));
    const auto again = pack({"keygen", "-o", "k"});
    BOOST_TEST(again.exit_code == 2);
    BOOST_TEST(contains(again.err, "already exists; use --force"));
    BOOST_TEST(pack({"keygen", "-o", "k", "--force"}).exit_code == 0);
}

BOOST_FIXTURE_TEST_CASE(BuiltPackageVerifiesWithMinisignAndItsIdEqualsB2sum, SignedHello) {
    BOOST_TEST(id.size() == 64u);
    const auto minisign = run({"minisign", "-Vm", "hello.ferry", "-p", "k.pub"});
    BOOST_TEST(minisign.exit_code == 0, minisign.err);
    BOOST_TEST(contains(minisign.out, "package:hello\tversion:1.0\tobject:" + id));
    const auto b2sum = run({"b2sum", "-l", "256", "hello.ferry"});
    BOOST_TEST(b2sum.out.substr(0, 64) == id);
}

BOOST_FIXTURE_TEST_CASE(BsdtarListsFerryJsonFirst, SignedHello) {
    const auto list = run({"bsdtar", "-tf", "hello.ferry"});
    BOOST_TEST_REQUIRE(list.exit_code == 0, list.err);
    BOOST_TEST(list.out.substr(0, list.out.find('\n')) == "ferry.json");
    BOOST_TEST(contains(list.out, "files/bin/hello"));
    BOOST_TEST(contains(list.out, "scripts/check"));
}

BOOST_FIXTURE_TEST_CASE(VerifyPassesThenCatchesAFlippedByte, SignedHello) {  // THREATS 1
    const auto ok = pack({"verify", "hello.ferry", "--pub", "k.pub"});
    BOOST_TEST(ok.exit_code == 0, ok.err);
    BOOST_TEST(contains(ok.out, "OK: hello 1.0, object " + id));
    const long size = static_cast<long>(
        std::ifstream(path("hello.ferry"), std::ios::ate | std::ios::binary).tellg());
    for (long offset : {0L, size / 2, size - 1}) {
        std::ifstream src(path("hello.ferry"), std::ios::binary);
        std::ofstream(path("bad.ferry"), std::ios::binary) << src.rdbuf();
        std::ifstream sig(path("hello.ferry.minisig"), std::ios::binary);
        std::ofstream(path("bad.ferry.minisig"), std::ios::binary) << sig.rdbuf();
        flip_byte(path("bad.ferry"), offset);
        const auto bad = pack({"verify", "bad.ferry", "--pub", "k.pub"});
        BOOST_TEST(bad.exit_code == 1, "offset " << offset);
        BOOST_TEST(contains(bad.err, "signature verification failed"), bad.err);
    }
}

BOOST_FIXTURE_TEST_CASE(RebuildGivesTheSameBytes, SignedHello) {
    const auto again = pack({"build", samples + "/hello-1.0", "-o", "again.ferry"});
    BOOST_TEST(trim(again.out) == id);
    BOOST_TEST(run({"cmp", "hello.ferry", "again.ferry"}).exit_code == 0);
}

BOOST_FIXTURE_TEST_CASE(VerifyRefusesAnotherKeyAndAnEditedTrustedComment,
                        SignedHello) {  // THREATS 2, 5
    BOOST_REQUIRE_EQUAL(pack({"keygen", "-o", "other"}).exit_code, 0);
    const auto wrong_key = pack({"verify", "hello.ferry", "--pub", "other.pub"});
    BOOST_TEST(wrong_key.exit_code == 1);
    BOOST_TEST(contains(wrong_key.err, "not by the trusted key"), wrong_key.err);

    std::string sig = read_file(path("hello.ferry.minisig"));
    sig.replace(sig.find("version:1.0"), 11, "version:9.9");
    write_file(path("hello.ferry.minisig"), sig);
    const auto edited = pack({"verify", "hello.ferry", "--pub", "k.pub"});
    BOOST_TEST(edited.exit_code == 1);
    BOOST_TEST(contains(edited.err, "trusted comment verification failed"), edited.err);
}

BOOST_FIXTURE_TEST_CASE(SignatureForOneVersionDoesNotVerifyAnother, SignedHello) {  // THREATS 13
    BOOST_REQUIRE_EQUAL(
        pack({"build", samples + "/hello-1.1", "-o", "hello11.ferry", "--key", "k.key"}).exit_code,
        0);
    const auto swapped =
        pack({"verify", "hello11.ferry", "--pub", "k.pub", "--sig", "hello.ferry.minisig"});
    BOOST_TEST(swapped.exit_code == 1);
    BOOST_TEST(contains(swapped.err, "signature verification failed"), swapped.err);
}

BOOST_FIXTURE_TEST_CASE(MinisignSignatureFromAWKeyVerifiesWithFerry, SignedHello) {  // THREATS 7
    BOOST_REQUIRE_EQUAL(run({"minisign", "-G", "-W", "-p", "m.pub", "-s", "m.key"}).exit_code, 0);
    const std::string comment = "package:hello\tversion:1.0\tobject:" + id;
    const auto sign = run(
        {"minisign", "-S", "-s", "m.key", "-m", "hello.ferry", "-x", "m.minisig", "-t", comment});
    BOOST_TEST_REQUIRE(sign.exit_code == 0, sign.err);
    const auto ok = pack({"verify", "hello.ferry", "--pub", "m.pub", "--sig", "m.minisig"});
    BOOST_TEST(ok.exit_code == 0, ok.err);

    // minisign's default comment names no package: Ferry will not accept what it cannot scope.
    BOOST_REQUIRE_EQUAL(
        run({"minisign", "-S", "-s", "m.key", "-m", "hello.ferry", "-x", "plain.minisig"})
            .exit_code,
        0);
    const auto plain = pack({"verify", "hello.ferry", "--pub", "m.pub", "--sig", "plain.minisig"});
    BOOST_TEST(plain.exit_code == 1);
    BOOST_TEST(contains(plain.err, "does not name the package, version and object"), plain.err);
}

BOOST_FIXTURE_TEST_CASE(MinisignLegacySignatureIsRefused, SignedHello) {  // THREATS 4
    BOOST_REQUIRE_EQUAL(run({"minisign", "-G", "-W", "-p", "m.pub", "-s", "m.key"}).exit_code, 0);
    const auto legacy =
        run({"minisign", "-S", "-l", "-s", "m.key", "-m", "hello.ferry", "-x", "legacy.minisig"});
    BOOST_TEST_REQUIRE(legacy.exit_code == 0, legacy.err);
    const auto r = pack({"verify", "hello.ferry", "--pub", "m.pub", "--sig", "legacy.minisig"});
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(contains(r.err, "legacy (non-prehashed) \"Ed\" signatures are not accepted"), r.err);
}

BOOST_FIXTURE_TEST_CASE(EncryptedKeysWorkBothWaysAndAWrongPasswordSaysSo,
                        PackFixture) {  // THREATS 7
    // minisign's encrypted key, used by ferry-pack (password on stdin).
    const auto gen =
        run({"minisign", "-G", "-p", "m.pub", "-s", "m.key"}, "secret pw\nsecret pw\n");
    BOOST_TEST_REQUIRE(gen.exit_code == 0, gen.err);
    const auto build =
        pack({"build", samples + "/hello-1.0", "-o", "h.ferry", "--key", "m.key"}, "secret pw\n");
    BOOST_TEST_REQUIRE(build.exit_code == 0, build.err);
    BOOST_TEST(run({"minisign", "-Vm", "h.ferry", "-p", "m.pub"}).exit_code == 0);
    const auto wrong = pack({"sign", "h.ferry", "--key", "m.key"}, "not it\n");
    BOOST_TEST(wrong.exit_code == 2);
    BOOST_TEST(contains(wrong.err, "m.key: wrong password for this secret key"), wrong.err);

    // ferry-pack's encrypted key, used by minisign.
    BOOST_TEST_REQUIRE(pack({"keygen", "-o", "f", "--password"}, "ferry pw\n").exit_code == 0);
    const auto sign =
        run({"minisign", "-S", "-s", "f.key", "-m", "h.ferry", "-x", "f.minisig"}, "ferry pw\n");
    BOOST_TEST(sign.exit_code == 0, sign.err);
    BOOST_TEST(run({"minisign", "-Vm", "h.ferry", "-x", "f.minisig", "-p", "f.pub"}).exit_code ==
               0);
}

BOOST_FIXTURE_TEST_CASE(SignAddsASignatureToAnUnsignedPackage, PackFixture) {
    BOOST_REQUIRE_EQUAL(pack({"keygen", "-o", "k"}).exit_code, 0);
    BOOST_REQUIRE_EQUAL(pack({"build", samples + "/broken-1.0", "-o", "broken.ferry"}).exit_code,
                        0);
    BOOST_TEST(!path_exists(path("broken.ferry.minisig")));
    const auto sign = pack({"sign", "broken.ferry", "--key", "k.key"});
    BOOST_TEST_REQUIRE(sign.exit_code == 0, sign.err);
    BOOST_TEST(run({"minisign", "-Vm", "broken.ferry", "-p", "k.pub"}).exit_code == 0);
    BOOST_TEST(pack({"verify", "broken.ferry", "--pub", "k.pub"}).exit_code == 0);
}

BOOST_FIXTURE_TEST_CASE(InspectShowsTheManifestAsTextAndJson, SignedHello) {
    const auto text = pack({"inspect", "hello.ferry"});
    BOOST_TEST_REQUIRE(text.exit_code == 0, text.err);
    BOOST_TEST(contains(text.out, "hello 1.0"));
    BOOST_TEST(contains(text.out, "object id     " + id));
    BOOST_TEST(contains(text.out, "files/etc/hello.conf"));
    const auto json = pack({"inspect", "hello.ferry", "--json"});
    BOOST_TEST_REQUIRE(json.exit_code == 0, json.err);
    BOOST_TEST(contains(json.out, "\"object_id\": \"" + id + "\""));
    BOOST_TEST(contains(json.out, "\"publisher\": \"Ferry Samples\""));
}

BOOST_FIXTURE_TEST_CASE(UsageErrorsExitTwoAndHelpExitsZero, PackFixture) {
    BOOST_TEST(pack({}).exit_code == 2);
    const auto unknown = pack({"frobnicate"});
    BOOST_TEST(unknown.exit_code == 2);
    BOOST_TEST(contains(unknown.err, "unknown command \"frobnicate\""));
    const auto bad_option = pack({"build", "x", "-o", "y", "--colour"});
    BOOST_TEST(bad_option.exit_code == 2);
    BOOST_TEST(contains(bad_option.err, "unknown option --colour"));
    const auto missing = pack({"build", "x"});
    BOOST_TEST(missing.exit_code == 2);
    BOOST_TEST(contains(missing.err, "--output is required"));
    for (const char* command : {"keygen", "build", "sign", "verify", "inspect"}) {
        const auto help = pack({command, "--help"});
        BOOST_TEST(help.exit_code == 0, command);
        BOOST_TEST(contains(help.out, std::string("usage: ferry-pack ") + command), command);
    }
    const auto no_file = pack({"inspect", "does-not-exist.ferry"});
    BOOST_TEST(no_file.exit_code == 2);
    BOOST_TEST(contains(no_file.err, "does-not-exist.ferry"));
}

BOOST_FIXTURE_TEST_CASE(BuildErrorsNameTheFieldAndWriteNothing, PackFixture) {
    write_file(path("src/ferry.json"), R"({"name": "x", "version": "one", "publisher": "p"})");
    write_file(path("src/files/a"), "a");
    const auto r = pack({"build", "src", "-o", "x.ferry"});
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(contains(r.err, "src/ferry.json: field \"version\": must start with a digit"),
               r.err);
    BOOST_TEST(!path_exists(path("x.ferry")));
}

BOOST_FIXTURE_TEST_CASE(VerifyRefusesAHostileArchiveEvenWhenValidlySigned,
                        PackFixture) {  // THREATS 18 via CLI
    // An attacker who controls a signing key still cannot get "../x" past verification.
    {
        Manifest m = package_manifest({{"files/a", EntryType::File, "a", 0644, ""}});
        ArchiveBuilder b(path("evil.ferry"));
        b.manifest(m).dir("files").file("files/a", "a").file("files/../../x", "escape");
    }
    const auto key = minisign::SecretKey::generate();
    write_file(path("k.pub"), key.public_key().to_file_text());
    const FileDigest digest = digest_file(path("evil.ferry"));
    Manifest claimed;
    claimed.name = "test";
    claimed.version = "1.0";
    write_file(path("evil.ferry.minisig"),
               sign_package(key, digest, claimed, "evil.ferry").to_file_text());
    const auto r = pack({"verify", "evil.ferry", "--pub", "k.pub"});
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(contains(r.err, "entry \"files/../../x\": path has a \"..\" component"), r.err);
}

BOOST_FIXTURE_TEST_CASE(GnuTarExtractsAPackageWithoutComplaint, SignedHello) {
    BOOST_REQUIRE(::mkdir(path("x").c_str(), 0755) == 0);
    const auto tar = run({"tar", "-I", "zstd", "-xf", "hello.ferry", "-C", "x"});
    BOOST_TEST(tar.exit_code == 0);
    BOOST_TEST(tar.err.empty(), tar.err);
    BOOST_TEST(read_file(path("x/files/etc/hello.conf")) ==
               read_file(samples + "/hello-1.0/files/etc/hello.conf"));
}

BOOST_FIXTURE_TEST_CASE(NonAsciiNamesBuildTheSameBytesInEveryLocale, PackFixture) {
    write_file(path("src/ferry.json"), R"({"name": "intl", "version": "1.0", "publisher": "p"})");
    write_file(path("src/files/caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.txt"), "x");
    const auto c = run({"env", "LC_ALL=C", FERRY_PACK_BINARY, "build", "src", "-o", "c.ferry"});
    const auto utf8 =
        run({"env", "LC_ALL=C.UTF-8", FERRY_PACK_BINARY, "build", "src", "-o", "u.ferry"});
    BOOST_TEST_REQUIRE(c.exit_code == 0, c.err);
    BOOST_TEST_REQUIRE(utf8.exit_code == 0, utf8.err);
    BOOST_TEST(c.out == utf8.out);
    BOOST_TEST(run({"cmp", "c.ferry", "u.ferry"}).exit_code == 0);
    const auto list = run({"bsdtar", "-tf", "c.ferry"});
    BOOST_TEST(contains(list.out, "files/caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.txt"), list.out);
}
