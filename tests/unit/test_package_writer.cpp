#define BOOST_TEST_MODULE package_writer
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "expect_error.h"
#include "ferry/hash.h"
#include "ferry/package_reader.h"
#include "ferry/package_writer.h"
#include "temp_dir.h"

using namespace ferry;
using ferry::test::expect_error;
namespace fs = std::filesystem;

namespace {

const char* kManifest = R"({"name": "demo", "version": "2.0", "publisher": "Ferry Tests"})";

// A source tree whose files are created in `order`, with mtimes and modes that differ from
// run to run in everything the writer normalises.
void make_source(const std::string& root, const std::vector<int>& order, int variant) {
    const std::vector<std::pair<std::string, std::string>> files = {
        {"files/bin/tool", "#!/bin/sh\necho tool\n"},
        {"files/etc/tool.conf", "level=3\n"},
        {"files/share/doc/README", std::string(200000, 'r')},
        {"files/share/data.bin", std::string(70000, '\x01')},
        {"scripts/check", "#!/bin/sh\nexit 0\n"},
    };
    test::write_file(root + "/ferry.json", kManifest);
    for (int i : order) {
        const auto& [path, content] = files[static_cast<std::size_t>(i)];
        const bool executable =
            path.find("bin/") != std::string::npos || path.rfind("scripts/", 0) == 0;
        const unsigned mode =
            executable ? (variant == 0 ? 0755 : 0700) : (variant == 0 ? 0644 : 0600);
        test::write_file(root + "/" + path, content, mode);
        struct timeval times[2] = {{1000000 + variant * 12345, 0}, {2000000 + variant * 54321, 0}};
        ::utimes((root + "/" + path).c_str(), times);
    }
    fs::create_symlink("tool.conf", root + "/files/etc/tool.conf.link");
    fs::create_directories(root + "/files/empty-dir");
}

}  // namespace

BOOST_AUTO_TEST_CASE(SameSourceGivesIdenticalBytesWhateverMtimesModesAndOrder) {
    test::TempDir dir;
    make_source(dir / "a", {0, 1, 2, 3, 4}, 0);
    make_source(dir / "b", {4, 3, 2, 1, 0}, 1);
    const BuildResult a = build_package(dir / "a", dir / "a.ferry");
    const BuildResult b = build_package(dir / "b", dir / "b.ferry");
    BOOST_TEST(a.object_id == b.object_id);
    BOOST_TEST(test::read_file(dir / "a.ferry") == test::read_file(dir / "b.ferry"));
    BOOST_TEST(a.object_id == hash_file(dir / "a.ferry"));
    BOOST_TEST(a.size == fs::file_size(dir / "a.ferry"));
}

BOOST_AUTO_TEST_CASE(ManifestListsEveryEntryWithNormalisedModesAndHashes) {
    test::TempDir dir;
    make_source(dir / "src", {0, 1, 2, 3, 4}, 1);
    const BuildResult r = build_package(dir / "src", dir / "p.ferry");
    std::map<std::string, ManifestEntry> by_path;
    for (const auto& e : r.manifest.files) by_path[e.path] = e;
    BOOST_TEST(by_path.at("files/bin/tool").mode == 0755u);
    BOOST_TEST(by_path.at("files/etc/tool.conf").mode == 0644u);
    BOOST_TEST(by_path.at("files/etc/tool.conf").blake2b == hash_bytes("level=3\n", 8));
    BOOST_TEST(by_path.at("files/etc/tool.conf.link").target == "tool.conf");
    BOOST_TEST(by_path.at("files/empty-dir").type == EntryType::Directory);
    BOOST_TEST(by_path.at("scripts/check").mode == 0755u);
    BOOST_TEST(r.manifest.scripts == std::vector<std::string>{"check"});
    // What a reader sees is exactly what the writer promised.
    const Manifest read_back = verify_package_contents(dir / "p.ferry");
    BOOST_TEST(read_back.to_json() == r.manifest.to_json());
}

BOOST_AUTO_TEST_CASE(SourceWithoutFilesDirectoryIsRefused) {
    test::TempDir dir;
    test::write_file(dir / "src/ferry.json", kManifest);
    expect_error([&] { build_package(dir / "src", dir / "p.ferry"); }, ErrorCode::NotFound,
                 "package source has no files/ directory");
    BOOST_TEST(!test::path_exists(dir / "p.ferry"));
}

BOOST_AUTO_TEST_CASE(UnknownTopLevelItemsAreRefused) {
    test::TempDir dir;
    test::write_file(dir / "src/ferry.json", kManifest);
    test::write_file(dir / "src/files/a", "a");
    test::write_file(dir / "src/README", "notes");
    expect_error([&] { build_package(dir / "src", dir / "p.ferry"); }, ErrorCode::InvalidInput,
                 "src/README: not part of a package source");
}

BOOST_AUTO_TEST_CASE(SymlinksLeavingThePackageAreRefusedAtBuild) {
    test::TempDir dir;
    test::write_file(dir / "src/ferry.json", kManifest);
    test::write_file(dir / "src/files/a", "a");
    fs::create_symlink("/etc/passwd", dir / "src/files/abs");
    expect_error([&] { build_package(dir / "src", dir / "p.ferry"); }, ErrorCode::InvalidInput,
                 "files/abs: link target is absolute");
    fs::remove(dir / "src/files/abs");
    fs::create_symlink("../../outside", dir / "src/files/up");
    expect_error([&] { build_package(dir / "src", dir / "p.ferry"); }, ErrorCode::InvalidInput,
                 "link target has a \"..\" component");
}

BOOST_AUTO_TEST_CASE(SpecialFilesAreRefusedAtBuild) {
    test::TempDir dir;
    test::write_file(dir / "src/ferry.json", kManifest);
    BOOST_REQUIRE(::mkdir((dir / "src/files").c_str(), 0755) == 0);
    BOOST_REQUIRE(::mkfifo((dir / "src/files/pipe").c_str(), 0644) == 0);
    expect_error([&] { build_package(dir / "src", dir / "p.ferry"); }, ErrorCode::InvalidInput,
                 "files/pipe: is a device, FIFO or socket");
}

BOOST_AUTO_TEST_CASE(UnknownScriptsAreRefusedAtBuild) {
    test::TempDir dir;
    test::write_file(dir / "src/ferry.json", kManifest);
    test::write_file(dir / "src/files/a", "a");
    test::write_file(dir / "src/scripts/postinst", "#!/bin/sh\n", 0755);
    expect_error([&] { build_package(dir / "src", dir / "p.ferry"); }, ErrorCode::InvalidInput,
                 "scripts/ holds only install, uninstall and check");
}

BOOST_AUTO_TEST_CASE(NamesThatAreNotUtf8AreRefusedAtBuild) {
    test::TempDir dir;
    test::write_file(dir / "src/ferry.json", kManifest);
    test::write_file(dir / "src/files/caf\xe9", "latin-1 name");
    expect_error([&] { build_package(dir / "src", dir / "p.ferry"); }, ErrorCode::InvalidInput,
                 "file name is not valid UTF-8");
}

BOOST_AUTO_TEST_CASE(Utf8NamesSurviveTheRoundTrip) {
    test::TempDir dir;
    test::write_file(dir / "src/ferry.json", kManifest);
    test::write_file(dir / "src/files/caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.txt", "utf-8 name");
    const BuildResult r = build_package(dir / "src", dir / "p.ferry");
    const Manifest m = verify_package_contents(dir / "p.ferry");
    BOOST_TEST(m.files.back().path == "files/caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.txt");
    BOOST_TEST(r.manifest.to_json() == m.to_json());
}

BOOST_AUTO_TEST_CASE(FailedBuildLeavesNoOutputBehind) {
    test::TempDir dir;
    test::write_file(dir / "src/ferry.json", R"({"name": "demo"})");
    test::write_file(dir / "src/files/a", "a");
    expect_error([&] { build_package(dir / "src", dir / "out/p.ferry"); }, ErrorCode::InvalidInput,
                 "field \"version\": is required");
    test::write_file(dir / "src/ferry.json", kManifest);
    fs::create_directories(dir / "out");
    build_package(dir / "src", dir / "out/p.ferry");
    BOOST_TEST(test::list_tree(dir / "out") == "p.ferry\n");
}

BOOST_AUTO_TEST_CASE(FileChangedBetweenHashingAndCopyingFailsTheBuild) {
    // The manifest is written from the hashing pass; if the copy differs, the package would
    // contradict itself. The progress callback runs between the two passes.
    test::TempDir dir;
    test::write_file(dir / "src/ferry.json", kManifest);
    test::write_file(dir / "src/files/config", "setting=1\n");
    bool changed = false;
    auto change_after_hashing = [&](std::uint64_t done, std::uint64_t total) {
        if (!changed && done * 2 == total) {
            test::write_file(dir / "src/files/config", "setting=2\n");  // same size, new bytes
            changed = true;
        }
    };
    expect_error([&] { build_package(dir / "src", dir / "p.ferry", {}, change_after_hashing); },
                 ErrorCode::InvalidInput, "files/config: file changed while the package was built");
    BOOST_TEST(changed);
    BOOST_TEST(!test::path_exists(dir / "p.ferry"));
}
