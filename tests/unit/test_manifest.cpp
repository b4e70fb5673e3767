#define BOOST_TEST_MODULE manifest
#include <boost/test/unit_test.hpp>

#include "archive_builder.h"
#include "expect_error.h"
#include "ferry/manifest.h"

using namespace ferry;
using ferry::test::expect_error;

namespace {

const char* kSource = R"({
  "name": "hello", "version": "1.0", "description": "d", "publisher": "Ferry Samples",
  "release": "REL-2026-0001", "rfcs": ["RFC-1"], "requirements": "os.name == \"Debian\"",
  "dependencies": [{"name": "libfoo", "min_version": "2.1"}],
  "timeouts": {"install": 60}, "reboot": true
})";

std::string with_field(const std::string& field_json) {
    return std::string(R"({"name": "hello", "version": "1.0", "publisher": "p", )") + field_json +
           "}";
}

}  // namespace

BOOST_AUTO_TEST_CASE(ParsesEveryFieldOfASourceManifest) {
    const Manifest m = Manifest::parse_source(kSource, "ferry.json");
    BOOST_TEST(m.name == "hello");
    BOOST_TEST(m.version == "1.0");
    BOOST_TEST(m.publisher == "Ferry Samples");
    BOOST_TEST(m.release == "REL-2026-0001");
    BOOST_TEST(m.rfcs.size() == 1u);
    BOOST_TEST(m.requirements == "os.name == \"Debian\"");
    BOOST_REQUIRE(m.dependencies.size() == 1u);
    BOOST_TEST(m.dependencies[0].min_version == "2.1");
    BOOST_TEST(m.timeout_for("install") == 60);
    BOOST_TEST(m.timeout_for("check") == kDefaultHookTimeoutSeconds);
    BOOST_TEST(m.reboot);
}

BOOST_AUTO_TEST_CASE(ErrorsNameTheSourceAndTheField) {
    expect_error(
        [] { Manifest::parse_source(R"({"version": "1.0", "publisher": "p"})", "src/ferry.json"); },
        ErrorCode::InvalidInput, "src/ferry.json: field \"name\": is required");
    expect_error(
        [] {
            Manifest::parse_source(R"({"name": "Hello!", "version": "1.0", "publisher": "p"})",
                                   "f");
        },
        ErrorCode::InvalidInput, "field \"name\": must be 1-64 characters");
    expect_error(
        [] { Manifest::parse_source(R"({"name": "a", "version": "v1", "publisher": "p"})", "f"); },
        ErrorCode::InvalidInput, "field \"version\": must start with a digit");
    expect_error(
        [] { Manifest::parse_source(R"({"name": "a", "version": 1, "publisher": "p"})", "f"); },
        ErrorCode::InvalidInput, "field \"version\": must be a string");
    expect_error([] { Manifest::parse_source(with_field(R"("nmae": "typo")"), "f"); },
                 ErrorCode::InvalidInput, "field \"nmae\": unknown field");
    expect_error([] { Manifest::parse_source(with_field(R"("timeouts": {"install": 0})"), "f"); },
                 ErrorCode::InvalidInput,
                 "field \"timeouts.install\": must be between 1 and 86400");
    expect_error([] { Manifest::parse_source(with_field(R"("timeouts": {"postinst": 5})"), "f"); },
                 ErrorCode::InvalidInput, "field \"timeouts.postinst\": unknown field");
    expect_error(
        [] { Manifest::parse_source(with_field(R"("dependencies": [{"name": "hello"}])"), "f"); },
        ErrorCode::InvalidInput,
        "field \"dependencies[0].name\": a package cannot depend on itself");
    expect_error([] { Manifest::parse_source(with_field(R"("release": "2026-1")"), "f"); },
                 ErrorCode::InvalidInput, "field \"release\": must look like REL-YYYY-NNNN");
    expect_error([] { Manifest::parse_source(with_field(R"("reboot": "yes")"), "f"); },
                 ErrorCode::InvalidInput, "field \"reboot\": must be true or false");
    expect_error([] { Manifest::parse_source(with_field(R"("description": "a\u0007b")"), "f"); },
                 ErrorCode::InvalidInput, "field \"description\": contains control characters");
}

BOOST_AUTO_TEST_CASE(RefusesFieldsThatBuildComputes) {
    expect_error([] { Manifest::parse_source(with_field(R"("files": [])"), "f"); },
                 ErrorCode::InvalidInput, "field \"files\": is computed by ferry-pack build");
}

BOOST_AUTO_TEST_CASE(RefusesInvalidJsonAndDuplicateKeys) {
    expect_error([] { Manifest::parse_source("{\"name\": ", "f"); }, ErrorCode::InvalidInput,
                 "f: invalid JSON");
    expect_error([] { Manifest::parse_source("[1, 2]", "f"); }, ErrorCode::InvalidInput,
                 "top level must be a JSON object");
    // Two readers must never disagree on which "version" counts.
    expect_error(
        [] {
            Manifest::parse_source(
                R"({"name": "a", "version": "1", "version": "2", "publisher": "p"})", "f");
        },
        ErrorCode::InvalidInput, "duplicate key \"version\"");
}

BOOST_AUTO_TEST_CASE(PackageManifestRoundTripsThroughCanonicalJson) {
    Manifest m =
        test::package_manifest({{"files/bin/tool", EntryType::File, "#!/bin/sh\n", 0755, ""},
                                {"files/lib/libx.so", EntryType::Symlink, "", 0777, "libx.so.1"},
                                {"files/lib/libx.so.1", EntryType::File, "elf", 0644, ""},
                                {"scripts/check", EntryType::File, "#!/bin/sh\n", 0755, ""}});
    m.timeouts["check"] = 5;
    const std::string json = m.to_json();
    const Manifest back = Manifest::parse_package(json, "ferry.json");
    BOOST_TEST(back.to_json() == json);
    BOOST_TEST(back.files.size() == m.files.size());
    BOOST_TEST(json.find("\"mode\": \"0755\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(PackageManifestRefusesUnsafeOrInconsistentEntries) {
    auto with_entries = [](const std::vector<test::TestEntry>& entries) {
        return test::package_manifest(entries);
    };
    auto expect_refused = [](Manifest m, const std::string& fragment) {
        expect_error([&] { m.validate_package("ferry.json"); }, ErrorCode::InvalidInput, fragment);
    };
    expect_refused(with_entries({{"files/../x", EntryType::File, "x", 0644, ""}}),
                   "path has a \"..\" component");
    expect_refused(with_entries({{"/etc/passwd", EntryType::File, "x", 0644, ""}}),
                   "absolute path");
    expect_refused(with_entries({{"other/x", EntryType::File, "x", 0644, ""}}),
                   "outside files/ and scripts/");
    expect_refused(with_entries({{"files/x", EntryType::File, "x", 04755, ""}}),
                   "mode must be 0644 or 0755");
    expect_refused(with_entries({{"files/x", EntryType::File, "x", 0666, ""}}),
                   "mode must be 0644 or 0755");
    expect_refused(with_entries({{"files/l", EntryType::Symlink, "", 0777, "/etc"}}),
                   "link target is absolute");
    expect_refused(with_entries({{"files/l", EntryType::Symlink, "", 0777, "a/../../x"}}),
                   "link target has a \"..\"");
    expect_refused(with_entries({{"scripts/postinst", EntryType::File, "x", 0755, ""}}),
                   "scripts/ holds only");
    expect_refused(with_entries({{"scripts/check", EntryType::File, "x", 0644, ""}}),
                   "scripts must be executable");
    expect_refused(
        with_entries({{"files/" + std::string(300, 'n'), EntryType::File, "x", 0644, ""}}),
        "path component longer than 255 bytes");
    std::string deep = "files";
    for (int i = 0; i < 40; ++i) deep += "/d";
    expect_refused(with_entries({{deep, EntryType::File, "x", 0644, ""}}),
                   "nested deeper than 32 levels");

    Manifest twice = with_entries({{"files/a", EntryType::File, "x", 0644, ""}});
    twice.files.push_back(twice.files.back());
    expect_refused(twice, "path listed twice");
    Manifest orphan = with_entries({{"files/a/b", EntryType::File, "x", 0644, ""}});
    orphan.files.erase(orphan.files.begin() + 1);  // drop "files/a"
    expect_refused(orphan, "its parent directory \"files/a\" is not listed before it");
    Manifest hooks = with_entries({{"scripts/check", EntryType::File, "x", 0755, ""}});
    hooks.scripts.clear();
    expect_refused(hooks, "field \"scripts\"");
}

BOOST_AUTO_TEST_CASE(PackageManifestRefusesModesThatAreNotOctal) {
    Manifest m = test::package_manifest({{"files/a", EntryType::File, "x", 0644, ""}});
    std::string json = m.to_json();
    json.replace(json.find("\"0644\""), 6, "420");
    expect_error([&] { Manifest::parse_package(json, "ferry.json"); }, ErrorCode::InvalidInput,
                 "field \"files[1].mode\": must be a string");
}
