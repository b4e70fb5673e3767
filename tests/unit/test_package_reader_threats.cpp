// PackageReader against hostile archives: THREATS.md cases 1 and 18-25, plus the ways an
// archive can fail to be a package at all. Every archive is built here, entry by entry, with
// ArchiveBuilder (or by hand, for what no tar writer will produce), so each test is valid except
// for the one thing it is about.
#define BOOST_TEST_MODULE package_reader_threats
#include <sys/stat.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "archive_builder.h"
#include "expect_error.h"
#include "ferry/error.h"
#include "ferry/hash.h"
#include "ferry/manifest.h"
#include "ferry/package_reader.h"
#include "ferry/package_writer.h"
#include "ferry/safe_extractor.h"
#include "run_process.h"
#include "temp_dir.h"

using namespace ferry;
using test::ArchiveBuilder;
using test::dir_entry;
using test::expect_error;
using test::file_entry;
using test::link_entry;
using test::package_manifest;
using test::TempDir;
using test::TestEntry;

namespace {

// Verifies the package at `path`; the tests only care whether and how it throws.
void verify(const std::string& path, const ReadLimits& limits = {}) {
    verify_package_contents(path, limits);
}

// "files/d1/d2/.../f": a path of exactly `depth` components.
std::string nested_path(std::size_t depth) {
    std::string path = "files";
    for (std::size_t i = 1; i + 1 < depth; ++i) path += "/d" + std::to_string(i);
    return path + "/f";
}

// Deterministic bytes that zstd cannot shrink much, so a package has a long compressed body.
std::string noise(std::size_t size, std::uint32_t seed) {
    std::string out(size, '\0');
    for (auto& c : out) {
        seed = seed * 1664525u + 1013904223u;
        c = static_cast<char>(seed >> 24);
    }
    return out;
}

// A real package built by ferry::build_package from a source tree, as ferry-pack would, with
// `data_bytes` of incompressible content.
std::string build_real_package(const TempDir& dir, std::size_t data_bytes = 6000) {
    const std::string src = dir / "src";
    test::write_file(src + "/ferry.json",
                     R"({"name": "demo", "version": "1.0", "publisher": "Ferry Tests"})");
    test::write_file(src + "/files/bin/demo", "#!/bin/sh\necho demo\n", 0755);
    test::write_file(src + "/files/share/demo/data", noise(data_bytes, 7));
    test::write_file(src + "/files/share/demo/text", std::string(3000, 'x') + "the end\n");
    const std::string out = dir / "demo-1.0.ferry";
    build_package(src, out);
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The baseline: what the hostile archives below are variations of.

BOOST_AUTO_TEST_CASE(ValidPackageVerifiesAndStreamsEveryEntryInOrder) {
    TempDir dir;
    const std::string big = noise(3 * 1024 * 1024 + 17, 1);
    const std::vector<TestEntry> entries = {
        file_entry("files/bin/tool", "#!/bin/sh\n", 0755), file_entry("files/data/big", big),
        file_entry("files/etc/empty", ""), link_entry("files/etc/link", "empty"),
        file_entry("scripts/install", "#!/bin/sh\nexit 0\n", 0755)};
    test::write_package(dir / "p.ferry", entries);

    PackageReader reader(dir / "p.ferry");
    BOOST_TEST(reader.manifest().name == "test");
    BOOST_TEST(reader.manifest_json() == package_manifest(entries).to_json());
    std::vector<std::string> seen;
    std::string big_read;
    while (const ManifestEntry* e = reader.next()) {
        seen.push_back(e->path);
        const void* data = nullptr;
        std::size_t size = 0;
        while (reader.read_block(data, size)) {
            if (e->path == "files/data/big") big_read.append(static_cast<const char*>(data), size);
        }
    }
    const std::vector<std::string> expected = {
        "files",     "files/bin",       "files/bin/tool", "files/data", "files/data/big",
        "files/etc", "files/etc/empty", "files/etc/link", "scripts",    "scripts/install"};
    BOOST_TEST(seen == expected, boost::test_tools::per_element());
    BOOST_TEST((big_read == big));
    BOOST_TEST(reader.bytes_read() == reader.manifest().total_file_bytes());
}

BOOST_AUTO_TEST_CASE(NextBeforeTheCurrentFileIsReadIsAnInternalError) {
    TempDir dir;
    test::write_package(dir / "p.ferry",
                        {file_entry("files/a", "aaa"), file_entry("files/b", "bbb")});
    PackageReader reader(dir / "p.ferry");
    BOOST_REQUIRE(reader.next() != nullptr);  // files
    BOOST_REQUIRE(reader.next() != nullptr);  // files/a, unread
    expect_error([&] { reader.next(); }, ErrorCode::Internal, "before the current entry was read");
}

// ---------------------------------------------------------------------------------------------
// Not a package at all.

BOOST_AUTO_TEST_CASE(MissingFileIsNotFound) {
    TempDir dir;
    expect_error([&] { verify(dir / "absent.ferry"); }, ErrorCode::NotFound,
                 "absent.ferry: No such file or directory");
}

BOOST_AUTO_TEST_CASE(PlainTextIsNotAPackage) {
    TempDir dir;
    test::write_file(dir / "text.ferry", "just some text\n");
    expect_error([&] { verify(dir / "text.ferry"); }, ErrorCode::InvalidInput,
                 "not a Ferry package");
}

BOOST_AUTO_TEST_CASE(EmptyArchiveIsNotAPackage) {
    TempDir dir;
    ArchiveBuilder(dir / "empty.ferry").finish();
    expect_error([&] { verify(dir / "empty.ferry"); }, ErrorCode::InvalidInput,
                 "not a Ferry package (empty archive)");
}

BOOST_AUTO_TEST_CASE(FirstEntryOtherThanFerryJsonIsNotAPackage) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/a", "a")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.dir("files").manifest(m).file("files/a", "a");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::InvalidInput,
                 "not a Ferry package: the first entry must be the regular file ferry.json");
}

BOOST_AUTO_TEST_CASE(FerryJsonThatIsNotARegularFileIsNotAPackage) {
    TempDir dir;
    ArchiveBuilder(dir / "dir.ferry").dir("ferry.json").finish();
    ArchiveBuilder(dir / "link.ferry").symlink("ferry.json", "files/manifest").finish();
    ArchiveBuilder(dir / "hard.ferry").hardlink("ferry.json", "/etc/passwd").finish();
    for (const char* name : {"dir.ferry", "link.ferry", "hard.ferry"}) {
        BOOST_TEST_CONTEXT(name) {
            expect_error([&] { verify(dir / name); }, ErrorCode::InvalidInput,
                         "the first entry must be the regular file ferry.json");
        }
    }
}

BOOST_AUTO_TEST_CASE(UnparsableManifestIsInvalidInputNamingFerryJson) {
    TempDir dir;
    ArchiveBuilder(dir / "p.ferry").file("ferry.json", "{\"name\": ").finish();
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::InvalidInput, "p.ferry: ferry.json");
}

BOOST_AUTO_TEST_CASE(ManifestLargerThanTheLimitIsRefusedBeforeItIsRead) {
    TempDir dir;
    test::write_package(dir / "p.ferry", {file_entry("files/a", "a")});
    ReadLimits limits;
    limits.max_manifest_bytes = 100;
    expect_error([&] { verify(dir / "p.ferry", limits); }, ErrorCode::LimitExceeded,
                 "ferry.json is larger than the limit of 100 bytes");
}

BOOST_AUTO_TEST_CASE(UncompressedTarIsNotAPackage) {
    // Packages are zstd-compressed tar; the same tar without compression is a different file
    // that no builder produces, and the reader's contract is zstd only.
    TempDir dir;
    test::write_package(dir / "p.ferry", {file_entry("files/a", "a")});
    const auto unzstd =
        test::run_process({"zstd", "-d", "-q", dir / "p.ferry", "-o", dir / "p.tar"});
    BOOST_REQUIRE_EQUAL(unzstd.exit_code, 0);
    expect_error([&] { verify(dir / "p.tar"); }, ErrorCode::InvalidInput, "not a Ferry package");
}

BOOST_AUTO_TEST_CASE(DoublyCompressedPackageIsNotAPackage) {
    // zstd inside zstd squares the compression ratio of a bomb; only one layer is a package.
    TempDir dir;
    test::write_package(dir / "p.ferry", {file_entry("files/a", "a")});
    test::write_zstd(dir / "twice.ferry", test::read_file(dir / "p.ferry"));
    expect_error([&] { verify(dir / "twice.ferry"); }, ErrorCode::InvalidInput,
                 "not a Ferry package");
}

BOOST_AUTO_TEST_CASE(SecondFerryJsonLaterInTheArchiveIsRefused) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/a", "a")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file("files/a", "a").file("ferry.json", "{}");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"ferry.json\": path is outside files/ and scripts/");
}

// ---------------------------------------------------------------------------------------------
// Case 18: paths that leave the target.

namespace {
struct UnsafePath {
    std::string path;
    std::string reason;
};
const std::vector<UnsafePath> kUnsafePaths = {
    {"../x", "path has a \"..\" component"},
    {"/abs", "absolute path"},
    {"/etc/cron.d/evil", "absolute path"},
    {"files/a/../../x", "path has a \"..\" component"},
    {"files/..", "path has a \"..\" component"},
    {"./files/x", "path has a \".\" component"},
    {"files//x", "path has an empty component"},
    {"files/x\n", "path contains control characters"},
    {"etc/passwd", "path is outside files/ and scripts/"},
    {"scripts/preinst", "scripts/ holds only install, uninstall and check"},
};
}  // namespace

BOOST_AUTO_TEST_CASE(EscapingPathAsAnExtraEntryIsRefusedWithItsReason) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/a", "a"), dir_entry("files/a2")});
    for (const auto& [path, reason] : kUnsafePaths) {
        BOOST_TEST_CONTEXT(path) {
            const std::string pkg = dir / "p.ferry";
            {
                ArchiveBuilder b(pkg);
                b.manifest(m).dir("files").file("files/a", "a").dir("files/a2").file(path, "evil");
            }
            // Control bytes in names are shown escaped, never sent raw to a terminal.
            const std::string shown =
                path.back() == '\n' ? path.substr(0, path.size() - 1) + "\\x0a" : path;
            expect_error([&] { verify(pkg); }, ErrorCode::UnsafeArchive,
                         "entry \"" + shown + "\": " + reason);
        }
    }
}

BOOST_AUTO_TEST_CASE(EscapingPathListedInTheManifestIsInvalidInput) {
    TempDir dir;
    for (const auto& [path, reason] : kUnsafePaths) {
        BOOST_TEST_CONTEXT(path) {
            const std::string pkg = dir / "p.ferry";
            // The hostile manifest lists the path as if it were a proper entry, and the archive
            // carries it: the manifest is refused before any entry is looked at.
            Manifest m = package_manifest({dir_entry("files/a")});
            ManifestEntry evil;
            evil.path = path;
            evil.size = 4;
            evil.blake2b = hash_bytes("evil", 4);
            m.files.push_back(evil);
            std::sort(
                m.files.begin(), m.files.end(),
                [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
            {
                ArchiveBuilder b(pkg);
                b.manifest(m).dir("files").dir("files/a").file(path, "evil");
            }
            // A control character is stopped by the JSON reader, which names the field instead.
            const std::string fragment = path.find('\n') != std::string::npos
                                             ? "path\": contains control characters"
                                             : "(" + path + "): " + reason;
            expect_error([&] { verify(pkg); }, ErrorCode::InvalidInput, fragment);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Case 19: writing through a symlink.

BOOST_AUTO_TEST_CASE(AbsoluteSymlinkFollowedByAnEntryThroughItIsRefusedAtTheLink) {
    TempDir dir;
    // The manifest is valid (the link points at "sub"); the archive swaps the target for /etc
    // and then tries to write files/lnk/passwd through it.
    const Manifest m = package_manifest({dir_entry("files/sub"), link_entry("files/lnk", "sub")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m)
            .dir("files")
            .symlink("files/lnk", "/etc")
            .file("files/lnk/passwd", "root::0:0::/:/bin/sh\n");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"files/lnk\": link target is absolute (\"/etc\")");
}

BOOST_AUTO_TEST_CASE(ManifestListingAnEntryBelowAnAbsoluteSymlinkIsInvalidInput) {
    TempDir dir;
    Manifest m = package_manifest({link_entry("files/lnk", "/etc")});
    ManifestEntry passwd;
    passwd.path = "files/lnk/passwd";
    passwd.size = 4;
    passwd.blake2b = std::string(64, '0');
    m.files.push_back(passwd);
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").symlink("files/lnk", "/etc").file("files/lnk/passwd", "evil");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::InvalidInput,
                 "(files/lnk): link target is absolute");
}

BOOST_AUTO_TEST_CASE(EntryBelowAValidRelativeSymlinkIsRefused) {
    TempDir dir;
    const Manifest m = package_manifest({dir_entry("files/sub"), link_entry("files/lnk", "sub")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m)
            .dir("files")
            .symlink("files/lnk", "sub")
            .dir("files/sub")
            .file("files/lnk/x", "through");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"files/lnk/x\": not listed in the manifest");
}

BOOST_AUTO_TEST_CASE(ManifestListingAnEntryBelowASymlinkIsInvalidInput) {
    // The parent of every entry must be a directory listed before it; a symlink is not one.
    TempDir dir;
    Manifest m = package_manifest({dir_entry("files/sub"), link_entry("files/lnk", "sub")});
    ManifestEntry x;
    x.path = "files/lnk/x";
    x.size = 7;
    x.blake2b = hash_bytes("through", 7);
    m.files.insert(m.files.begin() + 2, x);  // after files/lnk, before files/sub
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m)
            .dir("files")
            .symlink("files/lnk", "sub")
            .file("files/lnk/x", "through")
            .dir("files/sub");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::InvalidInput,
                 "(files/lnk/x): its parent directory \"files/lnk\" is not listed before it");
}

BOOST_AUTO_TEST_CASE(SymlinkInPlaceOfAListedDirectoryIsRefused) {
    // A valid manifest says files/etc is a directory holding passwd; the archive makes
    // files/etc a (harmless-looking, relative) symlink so that passwd would land elsewhere.
    TempDir dir;
    const Manifest m =
        package_manifest({file_entry("files/etc/passwd", "x"), dir_entry("files/other")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").symlink("files/etc", "other").file("files/etc/passwd", "x");
    }
    expect_error(
        [&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
        "entry \"files/etc\": is a symbolic link in the archive but a directory in the manifest");
}

// ---------------------------------------------------------------------------------------------
// Case 20: symlink targets.

namespace {
struct UnsafeTarget {
    std::string target;
    std::string reason;
};
const std::vector<UnsafeTarget> kUnsafeTargets = {
    {"/etc", "link target is absolute"},
    {"/", "link target is absolute"},
    {"..", "link target has a \"..\" component"},
    {"../../etc/shadow", "link target has a \"..\" component"},
    {"sub/../../x", "link target has a \"..\" component"},
    {"sub/..", "link target has a \"..\" component"},
    {"a\nb", "link target contains control characters"},
    {std::string(2000, 'a'), "link target longer than 1024 bytes"},
};
}  // namespace

BOOST_AUTO_TEST_CASE(SymlinkWithAnAbsoluteOrDotDotTargetIsRefused) {
    TempDir dir;
    const Manifest m = package_manifest({dir_entry("files/sub"), link_entry("files/lnk", "sub")});
    for (const auto& [target, reason] : kUnsafeTargets) {
        BOOST_TEST_CONTEXT(target.substr(0, 40)) {
            {
                ArchiveBuilder b(dir / "p.ferry");
                b.manifest(m).dir("files").symlink("files/lnk", target);
            }
            expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                         "entry \"files/lnk\": " + reason);
        }
    }
}

BOOST_AUTO_TEST_CASE(ManifestWithAnAbsoluteOrDotDotLinkTargetIsInvalidInput) {
    TempDir dir;
    for (const auto& [target, reason] : kUnsafeTargets) {
        if (target.size() > 1024) continue;  // the JSON field limit answers first; covered below
        BOOST_TEST_CONTEXT(target) {
            const Manifest m = package_manifest({link_entry("files/lnk", target)});
            {
                ArchiveBuilder b(dir / "p.ferry");
                b.manifest(m).dir("files").symlink("files/lnk", target);
            }
            const std::string fragment = target.find('\n') != std::string::npos
                                             ? "target\": contains control characters"
                                             : "(files/lnk): " + reason;
            expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::InvalidInput, fragment);
        }
    }
}

BOOST_AUTO_TEST_CASE(SafeSymlinkTargetThatDiffersFromTheManifestFailsVerification) {
    TempDir dir;
    const Manifest m = package_manifest({dir_entry("files/sub"), link_entry("files/lnk", "sub")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").symlink("files/lnk", "other");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::VerificationFailed,
                 "entry \"files/lnk\": link target differs from the manifest");
}

// ---------------------------------------------------------------------------------------------
// Case 21: hard links, whatever they point at.

BOOST_AUTO_TEST_CASE(HardLinksOfAnyKindAreRefused) {
    TempDir dir;
    // files/h is listed as an ordinary file, so the only thing wrong is that it is a hard link.
    const Manifest m = package_manifest({file_entry("files/a", "a"), file_entry("files/h", "")});
    for (const std::string target : {"files/a", "files/h", "/etc/passwd", "../outside/sentinel",
                                     "ferry.json", "files/missing"}) {
        BOOST_TEST_CONTEXT(target) {
            {
                ArchiveBuilder b(dir / "p.ferry");
                b.manifest(m).dir("files").file("files/a", "a").hardlink("files/h", target);
            }
            expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                         "entry \"files/h\": hard links are not allowed in packages");
        }
    }
}

BOOST_AUTO_TEST_CASE(UnlistedHardLinkIsRefusedAsAHardLink) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/a", "a")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file("files/a", "a").hardlink("files/passwd", "/etc/passwd");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"files/passwd\": hard links are not allowed in packages");
}

// ---------------------------------------------------------------------------------------------
// Case 22: devices, FIFOs, sockets.

BOOST_AUTO_TEST_CASE(DeviceAndFifoEntriesAreRefusedEvenWhenTheirPathIsListed) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/a", "a"), file_entry("files/node", "")});
    const std::vector<std::pair<unsigned, std::string>> types = {
        {AE_IFCHR, "character device"}, {AE_IFBLK, "block device"}, {AE_IFIFO, "FIFO"}};
    for (const auto& [type, name] : types) {
        BOOST_TEST_CONTEXT(name) {
            {
                ArchiveBuilder b(dir / "p.ferry");
                b.manifest(m).dir("files").file("files/a", "a").special("files/node", type);
            }
            expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                         "entry \"files/node\": " + name + " entries are not allowed");
        }
    }
}

BOOST_AUTO_TEST_CASE(UnlistedDeviceNodeIsRefusedForItsType) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/a", "a")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file("files/a", "a").special("files/sda", AE_IFBLK);
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"files/sda\": block device entries are not allowed");
}

BOOST_AUTO_TEST_CASE(SocketsCannotBeExpressedInAPackage) {
    // tar has no socket type: the pax writer refuses one, and a header whose mode field
    // carries the socket type bits is read as a regular file with that file's permissions, so
    // it is checked like any other file and can never become a socket.
    TempDir dir;
    ArchiveBuilder writer(dir / "w.ferry");
    BOOST_CHECK_THROW(writer.special("files/sock", AE_IFSOCK), std::runtime_error);

    const Manifest m = package_manifest({file_entry("files/sock", "")});
    const std::string json = m.to_json();
    const std::string tar = test::tar_header("ferry.json", '0', 0644, json.size()) +
                            test::tar_padded(json) + test::tar_header("files", '5', 0755, 0) +
                            test::tar_header("files/sock", '0', 0140644, 0) + test::tar_end();
    test::write_zstd(dir / "sock.ferry", tar);
    PackageReader reader(dir / "sock.ferry");
    BOOST_REQUIRE(reader.next() != nullptr);
    const ManifestEntry* sock = reader.next();
    BOOST_REQUIRE(sock != nullptr);
    BOOST_TEST(sock->path == "files/sock");
    BOOST_TEST((sock->type == EntryType::File));
    BOOST_TEST(sock->mode == 0644u);

    // With setuid bits beside the socket bits, the file is refused like any setuid file.
    const std::string suid = test::tar_header("ferry.json", '0', 0644, json.size()) +
                             test::tar_padded(json) + test::tar_header("files", '5', 0755, 0) +
                             test::tar_header("files/sock", '0', 0144644, 0) + test::tar_end();
    test::write_zstd(dir / "suid.ferry", suid);
    expect_error([&] { verify(dir / "suid.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"files/sock\": setuid and setgid bits are not allowed");
}

// ---------------------------------------------------------------------------------------------
// Case 23: modes and owners.

BOOST_AUTO_TEST_CASE(DangerousModeBitsInTheArchiveAreRefused) {
    TempDir dir;
    // The manifest is valid: files/tool 0755, files/dir 0755. Only the archive's mode is bad.
    const Manifest m =
        package_manifest({dir_entry("files/dir"), file_entry("files/tool", "x", 0755)});
    struct Case {
        bool on_dir;
        unsigned mode;
        std::string reason;
    };
    const std::vector<Case> cases = {
        {false, 04755, "setuid and setgid bits are not allowed"},
        {false, 02755, "setuid and setgid bits are not allowed"},
        {false, 06755, "setuid and setgid bits are not allowed"},
        {false, 01755, "the sticky bit is not allowed"},
        {false, 0757, "world-writable modes are not allowed"},
        {false, 0777, "world-writable modes are not allowed"},
        {true, 02755, "setuid and setgid bits are not allowed"},
        {true, 01777, "the sticky bit is not allowed"},
        {true, 0777, "world-writable modes are not allowed"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT((c.on_dir ? "dir " : "file ") << std::oct << c.mode) {
            {
                ArchiveBuilder b(dir / "p.ferry");
                b.manifest(m).dir("files");
                if (c.on_dir) {
                    b.dir("files/dir", c.mode);
                } else {
                    b.dir("files/dir").file("files/tool", "x", c.mode);
                }
            }
            const std::string entry = c.on_dir ? "files/dir" : "files/tool";
            expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                         "entry \"" + entry + "\": " + c.reason);
        }
    }
}

BOOST_AUTO_TEST_CASE(ManifestWithDangerousModesIsInvalidInput) {
    TempDir dir;
    struct Case {
        TestEntry entry;
        std::string reason;
    };
    const std::vector<Case> cases = {
        {file_entry("files/tool", "x", 04755), "a file's mode must be 0644 or 0755"},
        {file_entry("files/tool", "x", 02755), "a file's mode must be 0644 or 0755"},
        {file_entry("files/tool", "x", 0666), "a file's mode must be 0644 or 0755"},
        {dir_entry("files/dir"), "a directory's mode must be 0755"},
    };
    for (auto c : cases) {
        BOOST_TEST_CONTEXT(c.entry.path) {
            Manifest m = package_manifest({c.entry});
            if (c.entry.type == EntryType::Directory) m.files[1].mode = 01777;
            {
                ArchiveBuilder b(dir / "p.ferry");
                b.manifest(m).dir("files");
            }
            expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::InvalidInput,
                         "(" + c.entry.path + "): " + c.reason);
        }
    }
}

BOOST_AUTO_TEST_CASE(ModeThatDiffersFromTheManifestIsRefused) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/tool", "x", 0755)});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file("files/tool", "x", 0644);
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"files/tool\": mode differs from the manifest");
}

BOOST_AUTO_TEST_CASE(ArchiveOwnersAreIgnored) {
    TempDir dir;
    const std::vector<TestEntry> entries = {file_entry("files/a", "a"),
                                            file_entry("files/bin/t", "t", 0755),
                                            link_entry("files/l", "a")};
    const Manifest m = package_manifest(entries);
    for (const auto& [uid, gid] : std::vector<std::pair<std::int64_t, std::int64_t>>{
             {1234, 5678}, {0, 0}, {65534, 65534}, {4294967294LL, 4294967294LL}}) {
        BOOST_TEST_CONTEXT(uid << "/" << gid) {
            {
                ArchiveBuilder b(dir / "p.ferry");
                b.owner(uid, gid).manifest(m).dir("files").file("files/a", "a").dir("files/bin");
                b.file("files/bin/t", "t", 0755).symlink("files/l", "a");
            }
            BOOST_TEST(verify_package_contents(dir / "p.ferry").files.size() == m.files.size());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Case 24: bombs.

BOOST_AUTO_TEST_CASE(GigabyteOfZerosDeclaredInTheManifestIsRefusedBeforeReading) {
    TempDir dir;
    constexpr std::uint64_t kGiB = 1ULL << 30;
    Manifest m = package_manifest({file_entry("files/zero", "")});
    m.files[1].size = kGiB;  // the hash is never reached
    {
        ArchiveBuilder b(dir / "bomb.ferry");
        b.manifest(m).dir("files").zeros("files/zero", kGiB);
    }
    // It is a bomb: a gigabyte in well under a mebibyte.
    BOOST_TEST(std::filesystem::file_size(dir / "bomb.ferry") < (1u << 20));
    ReadLimits limits;
    limits.max_unpacked_bytes = 64 << 20;
    const auto start = std::chrono::steady_clock::now();
    expect_error(
        [&] { verify(dir / "bomb.ferry", limits); }, ErrorCode::LimitExceeded,
        "the manifest declares 1073741824 bytes, more than the unpacked-size limit of 67108864");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() < 2000);
}

BOOST_AUTO_TEST_CASE(TarHeaderLargerThanTheManifestSizeIsRefusedBeforeItsContent) {
    // The manifest declares five bytes; the tar header carries a gigabyte of zeros.
    TempDir dir;
    constexpr std::uint64_t kGiB = 1ULL << 30;
    const Manifest m = package_manifest({file_entry("files/zero", "hello")});
    {
        ArchiveBuilder b(dir / "bomb.ferry");
        b.manifest(m).dir("files").zeros("files/zero", kGiB);
    }
    ReadLimits limits;
    limits.max_unpacked_bytes = 64 << 20;
    PackageReader reader(dir / "bomb.ferry", limits);
    BOOST_REQUIRE(reader.next() != nullptr);  // files
    expect_error([&] { reader.next(); }, ErrorCode::VerificationFailed,
                 "entry \"files/zero\": size differs from the manifest");
    BOOST_TEST(reader.bytes_read() == 0u);
}

BOOST_AUTO_TEST_CASE(ManifestListingMoreEntriesThanTheLimitIsRefused) {
    TempDir dir;
    std::vector<TestEntry> entries;
    for (int i = 0; i < 1100; ++i)
        entries.push_back(file_entry("files/f" + std::to_string(10000 + i), ""));
    test::write_package(dir / "p.ferry", entries);
    ReadLimits limits;
    limits.max_entries = 1000;
    expect_error([&] { verify(dir / "p.ferry", limits); }, ErrorCode::LimitExceeded,
                 "lists 1101 entries, more than the limit of 1000");
}

BOOST_AUTO_TEST_CASE(ArchiveWithMoreEntriesThanTheLimitIsStoppedAtTheLimit) {
    // The manifest lists exactly the limit (999 files and "files"); the archive goes on.
    TempDir dir;
    std::vector<TestEntry> listed;
    for (int i = 0; i < 999; ++i)
        listed.push_back(file_entry("files/f" + std::to_string(10000 + i), ""));
    const Manifest m = package_manifest(listed);
    BOOST_REQUIRE_EQUAL(m.files.size(), 1000u);
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files");
        for (const auto& e : listed) b.file(e.path, "");
        for (int i = 0; i < 100; ++i) b.file("files/g" + std::to_string(i), "");
    }
    ReadLimits limits;
    limits.max_entries = 1000;
    expect_error([&] { verify(dir / "p.ferry", limits); }, ErrorCode::LimitExceeded,
                 "more than 1000 entries in the archive");

    // At exactly the limit the same entries are fine.
    test::write_package(dir / "exact.ferry", listed);
    BOOST_TEST(verify_package_contents(dir / "exact.ferry", limits).files.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(NestingDeeperThanTheDefaultLimitIsRefused) {
    TempDir dir;
    const std::string deep = nested_path(40);
    const Manifest m = package_manifest({file_entry("files/a", "a")});
    {
        ArchiveBuilder b(dir / "extra.ferry");
        b.manifest(m).dir("files").file("files/a", "a").file(deep, "deep");
    }
    expect_error([&] { verify(dir / "extra.ferry"); }, ErrorCode::UnsafeArchive,
                 "path nested deeper than 32 levels");

    test::write_package(dir / "listed.ferry", {file_entry(deep, "deep")});
    expect_error([&] { verify(dir / "listed.ferry"); }, ErrorCode::InvalidInput,
                 "path nested deeper than 32 levels");
}

BOOST_AUTO_TEST_CASE(NestingDeeperThanTheConfiguredLimitIsRefused) {
    TempDir dir;
    ReadLimits limits;
    limits.max_depth = 8;
    test::write_package(dir / "ok.ferry", {file_entry(nested_path(8), "x")});
    BOOST_TEST(verify_package_contents(dir / "ok.ferry", limits).files.size() == 8u);

    test::write_package(dir / "deep.ferry", {file_entry(nested_path(10), "x")});
    expect_error([&] { verify(dir / "deep.ferry", limits); }, ErrorCode::UnsafeArchive,
                 "entry \"files/d1/d2/d3/d4/d5/d6/d7/d8\": path nested deeper than 8 levels");
}

BOOST_AUTO_TEST_CASE(SixtyFourKilobyteNameIsRefusedWithAReadableMessage) {
    TempDir dir;
    const std::string huge = "files/" + std::string(64 * 1024 - 6, 'n');
    const Manifest m = package_manifest({file_entry("files/a", "a")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file("files/a", "a").file(huge, "x");
    }
    const std::string message = expect_error(
        [&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive, "path longer than 1024 bytes");
    // The admin reads the start of the name, not 64 KiB of it.
    BOOST_TEST(message.find("entry \"files/nnnn") != std::string::npos);
    BOOST_TEST(message.size() < 600u);

    // The same name from the manifest stops at the JSON field limit.
    test::write_package(dir / "listed.ferry", {file_entry(huge, "x")});
    expect_error([&] { verify(dir / "listed.ferry"); }, ErrorCode::InvalidInput,
                 "longer than 4096 bytes");

    // And a manifest path under the JSON limit but over the path limit names the reason.
    const std::string long_path = "files/" + std::string(200, 'a') + "/" + std::string(200, 'b') +
                                  "/" + std::string(200, 'c') + "/" + std::string(200, 'd') + "/" +
                                  std::string(250, 'e');
    test::write_package(dir / "long.ferry", {file_entry(long_path, "x")});
    expect_error([&] { verify(dir / "long.ferry"); }, ErrorCode::InvalidInput,
                 "path longer than 1024 bytes");
}

BOOST_AUTO_TEST_CASE(PathLongerThanTheConfiguredLimitIsRefused) {
    TempDir dir;
    const std::string path = "files/" + std::string(100, 'p');
    test::write_package(dir / "p.ferry", {file_entry(path, "x")});
    ReadLimits limits;
    limits.max_path_bytes = 64;
    expect_error([&] { verify(dir / "p.ferry", limits); }, ErrorCode::UnsafeArchive,
                 "path longer than 64 bytes");
}

BOOST_AUTO_TEST_CASE(SixtyFourKilobyteLinkTargetIsRefused) {
    TempDir dir;
    const Manifest m = package_manifest({link_entry("files/l", "a")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").symlink("files/l", std::string(64 * 1024, 't'));
    }
    const std::string message =
        expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                     "entry \"files/l\": link target longer than 1024 bytes");
    BOOST_TEST(message.size() < 600u);
}

// ---------------------------------------------------------------------------------------------
// Case 25: the same path twice.

BOOST_AUTO_TEST_CASE(FileThenDirectoryOfTheSamePathIsRefused) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/x", "x")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file("files/x", "x").dir("files/x");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"files/x\": appears twice in the archive");
}

BOOST_AUTO_TEST_CASE(DirectoryThenSymlinkOfTheSamePathIsRefused) {
    TempDir dir;
    const Manifest m = package_manifest({dir_entry("files/x"), file_entry("files/x/y", "y")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m)
            .dir("files")
            .dir("files/x")
            .symlink("files/x", "elsewhere")
            .file("files/x/y", "y");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"files/x\": appears twice in the archive");
}

BOOST_AUTO_TEST_CASE(TheSameFileTwiceIsRefusedEvenWithIdenticalContent) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/x", "x")});
    for (const std::string second : {"x", "replacement"}) {
        BOOST_TEST_CONTEXT(second) {
            {
                ArchiveBuilder b(dir / "p.ferry");
                b.manifest(m).dir("files").file("files/x", "x").file("files/x", second);
            }
            expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                         "entry \"files/x\": appears twice in the archive");
        }
    }
}

BOOST_AUTO_TEST_CASE(DirectoryWithAndWithoutTrailingSlashIsTheSamePath) {
    TempDir dir;
    const Manifest m = package_manifest({dir_entry("files/x")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files/").dir("files/x/").dir("files/x");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"files/x\": appears twice in the archive");
}

BOOST_AUTO_TEST_CASE(ManifestListingAPathTwiceIsInvalidInput) {
    TempDir dir;
    Manifest m = package_manifest({file_entry("files/x", "x")});
    m.files.push_back(m.files.back());
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file("files/x", "x");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::InvalidInput,
                 "(files/x): path listed twice");
}

// ---------------------------------------------------------------------------------------------
// Case 1 and the manifest as the contract: content, sizes, presence, order.

BOOST_AUTO_TEST_CASE(OneChangedByteOfContentFailsTheHash) {
    TempDir dir;
    const std::string content = noise(100'000, 3);
    std::string changed = content;
    changed[54'321] = static_cast<char>(changed[54'321] ^ 0x01);
    const Manifest m = package_manifest({file_entry("files/a", content)});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file("files/a", changed);
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::VerificationFailed,
                 "entry \"files/a\": content hash differs from the manifest");
}

BOOST_AUTO_TEST_CASE(FlippedByteInTheCompressedStreamOfARealPackageIsACleanError) {
    TempDir dir;
    const std::string pkg = build_real_package(dir);
    BOOST_REQUIRE_NO_THROW(verify(pkg));
    const std::string original = test::read_file(pkg);
    BOOST_REQUIRE_GT(original.size(), 2000u);

    std::string flipped = original;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0xff);
    test::write_file(dir / "flipped.ferry", flipped);
    try {
        verify(dir / "flipped.ferry");
        BOOST_ERROR(
            "a package with a flipped byte in the middle of its compressed stream verified");
    } catch (const Error& e) {
        BOOST_TEST(
            (e.code() == ErrorCode::VerificationFailed || e.code() == ErrorCode::UnsafeArchive),
            "code " << error_code_name(e.code()) << ": " << e.what());
        BOOST_TEST(std::string(e.what()).find("flipped.ferry") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(EveryFlippedBitOfARealPackageGivesACleanErrorOrVerifiedContent) {
    // The reader cannot see every change (a changed publisher string or tar padding is not its
    // business: the object id and the signature cover the file's bytes), but no change may
    // crash it or escape as anything but a ferry::Error, and content it passes was hashed.
    TempDir dir;
    const std::string pkg = build_real_package(dir);
    const std::string original = test::read_file(pkg);
    const std::string path = dir / "mutant.ferry";
    std::size_t refused = 0;
    std::size_t tried = 0;
    const std::size_t stride = std::max<std::size_t>(1, original.size() / 700);
    for (std::size_t i = 0; i < original.size(); i += stride) {
        std::string mutant = original;
        mutant[i] = static_cast<char>(mutant[i] ^ (1 << (i % 8)));
        test::write_file(path, mutant);
        ++tried;
        try {
            verify(path);
        } catch (const Error& e) {
            ++refused;
            const ErrorCode c = e.code();
            BOOST_TEST((c == ErrorCode::InvalidInput || c == ErrorCode::VerificationFailed ||
                        c == ErrorCode::UnsafeArchive || c == ErrorCode::LimitExceeded),
                       "byte " << i << ": " << error_code_name(c) << ": " << e.what());
        } catch (const std::exception& e) {
            BOOST_ERROR("byte " << i << ": not a ferry::Error: " << e.what());
        }
    }
    BOOST_TEST_MESSAGE("flipped " << tried << " bytes, " << refused << " refused");
    BOOST_TEST(refused * 2 > tried);
}

BOOST_AUTO_TEST_CASE(TruncatedPackageIsACleanVerificationFailure) {
    TempDir dir;
    // Cut inside the content of a large file: the manifest and the first entries read fine.
    const std::string original = test::read_file(build_real_package(dir, 4 << 20));
    test::write_file(dir / "short.ferry", original.substr(0, original.size() * 3 / 4));
    expect_error([&] { verify(dir / "short.ferry"); }, ErrorCode::VerificationFailed,
                 "corrupt package");
    // Cut inside the first megabyte of a small one: it is not a readable package at all.
    const std::string small = test::read_file(build_real_package(dir));
    test::write_file(dir / "stub.ferry", small.substr(0, small.size() / 2));
    expect_error([&] { verify(dir / "stub.ferry"); }, ErrorCode::InvalidInput,
                 "stub.ferry: not a Ferry package (");
}

BOOST_AUTO_TEST_CASE(FileListedInTheManifestButMissingFromTheArchiveFailsVerification) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/a", "a"), file_entry("files/b", "b")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file("files/a", "a");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::VerificationFailed,
                 "entry \"files/b\": listed in the manifest but missing from the archive");
}

BOOST_AUTO_TEST_CASE(EntryNotInTheManifestIsRefused) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/a", "a")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file("files/a", "a").file("files/extra", "surprise");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"files/extra\": not listed in the manifest");
}

BOOST_AUTO_TEST_CASE(ContentLongerOrShorterThanTheManifestIsRefused) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/a", "hello")});
    // The tar header declares the real length: any difference from the manifest is caught at
    // the header, before a byte of content is read.
    for (const std::string content : {"hello world", "hell", ""}) {
        BOOST_TEST_CONTEXT(content) {
            {
                ArchiveBuilder b(dir / "p.ferry");
                b.manifest(m).dir("files").file("files/a", content);
            }
            expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::VerificationFailed,
                         "entry \"files/a\": size differs from the manifest");
        }
    }
    // A header that matches the manifest over short content gets tar's zero padding, which
    // fails the hash.
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file_with_declared_size("files/a", "hel", 5);
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::VerificationFailed,
                 "entry \"files/a\": content hash differs from the manifest");
}

BOOST_AUTO_TEST_CASE(SparseEntriesAreRefused) {
    // A GNU sparse map makes libarchive return content with holes; a package has none.
    TempDir dir;
    const std::string content = std::string(512, '\0') + "hello" + std::string(507, '\0');
    const std::string json = package_manifest({file_entry("files/s", content)}).to_json();
    const std::string pax =
        test::pax_record("GNU.sparse.size", "1024") + test::pax_record("GNU.sparse.map", "512,5");
    const std::string tar = test::tar_header("ferry.json", '0', 0644, json.size()) +
                            test::tar_padded(json) + test::tar_header("files", '5', 0755, 0) +
                            test::tar_header("PaxHeaders/s", 'x', 0644, pax.size()) +
                            test::tar_padded(pax) + test::tar_header("files/s", '0', 0644, 5) +
                            test::tar_padded("hello") + test::tar_end();
    test::write_zstd(dir / "p.ferry", tar);
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"files/s\": sparse entries are not allowed");
}

BOOST_AUTO_TEST_CASE(EntryTypeThatDiffersFromTheManifestIsRefused) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/a", "a")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").dir("files/a");
    }
    expect_error(
        [&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
        "entry \"files/a\": is a directory in the archive but a regular file in the manifest");
}

BOOST_AUTO_TEST_CASE(EntryBeforeItsParentDirectoryIsRefused) {
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/sub/a", "a")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file("files/sub/a", "a").dir("files/sub");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"files/sub/a\": appears before its parent directory");
}

// ---- the bytes read are the bytes verified ----

BOOST_AUTO_TEST_CASE(ReaderWithExpectedIdAcceptsExactlyThatObject) {
    TempDir dir;
    test::write_package(dir / "p.ferry", {file_entry("files/a", "content")});
    const std::string id = hash_file(dir / "p.ferry");
    verify_package_contents(dir / "p.ferry", {}, nullptr, id);
    const std::string other(64, 'a');
    expect_error([&] { verify_package_contents(dir / "p.ferry", {}, nullptr, other); },
                 ErrorCode::VerificationFailed,
                 "the bytes read are not the verified object " + other);
}

BOOST_AUTO_TEST_CASE(ReplacingTheFileAfterItsIdWasCheckedIsCaught) {
    // The signature vouched for one file; another valid package now sits under the same name.
    TempDir dir;
    test::write_package(dir / "p.ferry", {file_entry("files/a", "signed content")});
    const std::string signed_id = hash_file(dir / "p.ferry");
    test::write_package(dir / "p.ferry", {file_entry("files/a", "swapped content")});
    expect_error([&] { extract_package(dir / "p.ferry", dir / "target", {}, nullptr, signed_id); },
                 ErrorCode::VerificationFailed, "was the file changed while it was being read?");
    BOOST_TEST(!test::path_exists(dir / "target"));
    BOOST_TEST(test::list_tree(dir.path()) == "p.ferry\n");
}

BOOST_AUTO_TEST_CASE(
    TopLevelFilesAndScriptsMustBeDirectories) {  // a link there would alias the other
    TempDir dir;
    Manifest m = package_manifest({file_entry("files/a", "a")});
    m.files.insert(m.files.begin() + 2,
                   ManifestEntry{"scripts", EntryType::Symlink, 0777, 0, "", "files"});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file("files/a", "a").symlink("scripts", "files");
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::InvalidInput,
                 "(scripts): must be a directory");
    {
        ArchiveBuilder b(dir / "q.ferry");
        b.manifest(package_manifest({file_entry("files/a", "a")})).symlink("files", ".");
    }
    expect_error([&] { verify(dir / "q.ferry"); }, ErrorCode::UnsafeArchive,
                 "entry \"files\": \"files\" itself is not an entry path");
}

BOOST_AUTO_TEST_CASE(ManifestWithMillionsOfTinyValuesIsRefusedBeforeItIsBuilt) {
    // A few KiB of compressed "{},{},…" would otherwise become gigabytes of JSON objects.
    TempDir dir;
    std::string json = R"({"name": "test", "version": "1.0", "publisher": "p", "x": [)";
    for (int i = 0; i < 2'000'000; ++i) json += i == 0 ? "{}" : ",{}";
    json += "]}";
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.file("ferry.json", json);
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::InvalidInput,
                 "more than 1410000 value units");
}

BOOST_AUTO_TEST_CASE(DeclaredSizesThatWouldWrapAroundStillTripTheLimit) {
    Manifest m = package_manifest(
        {file_entry("files/a", "a"), file_entry("files/b", "b"), file_entry("files/c", "c")});
    m.files[1].size = INT64_MAX;
    m.files[2].size = INT64_MAX;
    m.files[3].size = 2;
    BOOST_TEST(m.total_file_bytes() == UINT64_MAX);
    TempDir dir;
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m);
    }
    expect_error([&] { verify(dir / "p.ferry"); }, ErrorCode::LimitExceeded,
                 "more than the unpacked-size limit");
}

BOOST_AUTO_TEST_CASE(AFifoNamedAsAPackageIsRefusedWithoutHanging) {
    TempDir dir;
    BOOST_REQUIRE(::mkfifo((dir / "pipe.ferry").c_str(), 0644) == 0);
    expect_error([&] { verify(dir / "pipe.ferry"); }, ErrorCode::InvalidInput,
                 "pipe.ferry: not a regular file");
}

BOOST_AUTO_TEST_CASE(ObjectIdOnlyStillChecksStructureAndSizes) {
    // Per-file hashes may be skipped only because the whole file is pinned by its id; every
    // structural check still runs.
    TempDir dir;
    const Manifest m = package_manifest({file_entry("files/a", "abc")});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.manifest(m).dir("files").file("files/a", "abc").file("files/../../x", "evil");
    }
    const std::string id = hash_file(dir / "p.ferry");
    expect_error(
        [&] {
            PackageReader r(dir / "p.ferry", {}, id, ContentCheck::ObjectIdOnly);
            while (r.next()) {
                const void* d;
                std::size_t n;
                while (r.read_block(d, n)) {
                }
            }
        },
        ErrorCode::UnsafeArchive, "path has a \"..\" component");
    expect_error([&] { extract_package(dir / "p.ferry", dir / "t", {}, nullptr, id); },
                 ErrorCode::UnsafeArchive, "path has a \"..\" component");
    BOOST_TEST(!test::path_exists(dir / "t"));
    expect_error(
        [&] { PackageReader r(dir / "p.ferry", {}, std::nullopt, ContentCheck::ObjectIdOnly); },
        ErrorCode::Internal, "needs an expected object id");
}

BOOST_AUTO_TEST_CASE(ExtractionWithTheVerifiedIdProducesTheSameTreeAsWithout) {
    TempDir dir;
    std::string big(3 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7) ^ (i >> 11));
    test::write_package(
        dir / "p.ferry",
        {file_entry("files/big", big), file_entry("files/bin/tool", "#!/bin/sh\n", 0755),
         link_entry("files/link", "big"), dir_entry("files/empty")});
    extract_package(dir / "p.ferry", dir / "checked");
    extract_package(dir / "p.ferry", dir / "pinned", {}, nullptr, hash_file(dir / "p.ferry"));
    BOOST_TEST(test::list_tree(dir / "checked") == test::list_tree(dir / "pinned"));
    BOOST_TEST(test::read_file(dir / "pinned/files/big") == big);
    struct stat st {};
    ::stat((dir / "pinned/files/bin/tool").c_str(), &st);
    BOOST_TEST((st.st_mode & 07777) == 0755u);
}
