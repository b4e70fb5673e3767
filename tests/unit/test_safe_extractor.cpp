// extract_package(): a valid package lands exactly as its manifest says and nowhere else; a
// hostile one (THREATS.md cases 1 and 18-25) throws, leaves no target and no staging
// directory, and writes nothing anywhere — checked against a sentinel directory beside the
// target and a directory a symlink would point into.
#define BOOST_TEST_MODULE safe_extractor
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "archive_builder.h"
#include "expect_error.h"
#include "ferry/error.h"
#include "ferry/hash.h"
#include "ferry/manifest.h"
#include "ferry/package_writer.h"
#include "ferry/safe_extractor.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using namespace ferry;
using test::ArchiveBuilder;
using test::dir_entry;
using test::expect_error;
using test::file_entry;
using test::link_entry;
using test::package_manifest;
using test::path_exists;
using test::read_file;
using test::TempDir;
using test::TestEntry;

namespace {

struct stat lstat_of(const std::string& path) {
    struct stat st {};
    BOOST_REQUIRE_MESSAGE(::lstat(path.c_str(), &st) == 0, "cannot stat " << path);
    return st;
}

unsigned permissions_of(const std::string& path) { return lstat_of(path).st_mode & 07777; }

std::string link_target_of(const std::string& path) { return fs::read_symlink(path).string(); }

// Deterministic bytes that zstd cannot shrink much.
std::string noise(std::size_t size, std::uint32_t seed) {
    std::string out(size, '\0');
    for (auto& c : out) {
        seed = seed * 1664525u + 1013904223u;
        c = static_cast<char>(seed >> 24);
    }
    return out;
}

// Every path below `dir`, one line each, sorted: the path relative to `dir`, its type, its
// permissions, and a file's size or a symlink's target. Symlinks are listed, never followed
// (test::list_tree resolves them through fs::relative, which would hide where they point).
std::string snapshot(const std::string& dir) {
    std::vector<std::string> lines;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        const std::string path = e.path().string();
        const struct stat st = lstat_of(path);
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        std::string line = e.path().lexically_relative(dir).string() + " " + mode;
        if (S_ISDIR(st.st_mode)) {
            line += " dir";
        } else if (S_ISREG(st.st_mode)) {
            line += " file " + std::to_string(st.st_size);
        } else if (S_ISLNK(st.st_mode)) {
            line += " link -> " + fs::read_symlink(path).string();
        } else {
            line += " special";
        }
        lines.push_back(line);
    }
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

// Sets the umask for one scope: extraction must give exact modes whatever the caller's umask.
class ScopedUmask {
  public:
    explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
    ~ScopedUmask() { ::umask(old_); }
    ScopedUmask(const ScopedUmask&) = delete;
    ScopedUmask& operator=(const ScopedUmask&) = delete;

  private:
    mode_t old_;
};

// Everything a hostile package might try to reach: a temporary directory holding the package,
// the place of the target, a sentinel directory `outside/` beside it with a file in it, and an
// empty `victim/` directory for symlinks to point into.
struct Scene {
    TempDir dir;
    std::string package = dir / "pkg.ferry";
    std::string target = dir / "target";
    std::string outside = dir / "outside";
    std::string sentinel = dir / "outside/sentinel";
    std::string victim = dir / "victim";

    Scene() {
        test::write_file(sentinel, "keep me\n");
        fs::create_directory(victim);
    }

    // Names in the temporary directory that look like leftover staging directories.
    std::vector<std::string> staging_leftovers() const {
        std::vector<std::string> found;
        for (const auto& e : fs::directory_iterator(dir.path())) {
            const std::string name = e.path().filename().string();
            if (name.rfind("target.staging-", 0) == 0) found.push_back(name);
        }
        return found;
    }
};

// Extracting the scene's package throws Error(code) containing `fragment`; afterwards the
// target does not exist, no staging directory is left, and nothing in the temporary
// directory changed (paths, types, modes, sizes, link targets): the sentinel's bytes, inode
// and link count intact, the victim directory empty.
void expect_refused_cleanly(const Scene& scene, ErrorCode code, const std::string& fragment,
                            const ReadLimits& limits = {}) {
    const std::string before = snapshot(scene.dir.path());
    const struct stat sentinel_before = lstat_of(scene.sentinel);

    expect_error([&] { extract_package(scene.package, scene.target, limits); }, code, fragment);

    BOOST_TEST(!path_exists(scene.target),
               "the target " << scene.target << " exists after a refusal");
    BOOST_TEST(scene.staging_leftovers().empty(), "a staging directory was left behind");
    BOOST_TEST(snapshot(scene.dir.path()) == before);
    BOOST_TEST(snapshot(scene.victim).empty(),
               "something was written through a symlink into victim/");
    BOOST_TEST(read_file(scene.sentinel) == "keep me\n");
    const struct stat sentinel_after = lstat_of(scene.sentinel);
    BOOST_TEST(sentinel_after.st_ino == sentinel_before.st_ino);
    BOOST_TEST(sentinel_after.st_nlink == 1u);
    BOOST_TEST((sentinel_after.st_mode == sentinel_before.st_mode));
    BOOST_TEST(sentinel_after.st_uid == sentinel_before.st_uid);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// A valid package.

BOOST_AUTO_TEST_CASE(ValidPackageExtractsWithExactModesContentAndLinks) {
    TempDir packages;
    TempDir parent;
    const std::string blob = noise(3 * 1024 * 1024 + 5, 11);
    const std::vector<TestEntry> entries = {
        file_entry("files/bin/tool", "#!/bin/sh\necho tool\n", 0755),
        file_entry("files/etc/app.conf", "key=value\n"),
        link_entry("files/etc/current", "app.conf"),
        file_entry("files/share/app/blob", blob),
        file_entry("files/share/app/doc/empty", ""),
        link_entry("files/share/app/tool", "doc"),
        file_entry("scripts/install", "#!/bin/sh\nexit 0\n", 0755),
        file_entry("scripts/uninstall", "#!/bin/sh\nexit 0\n", 0755),
    };
    test::write_package(packages / "p.ferry", entries);
    const std::string target = parent / "target";

    ExtractResult result;
    {
        // A restrictive umask must not change the modes the manifest gives.
        ScopedUmask mask(077);
        result = extract_package(packages / "p.ferry", target);
    }

    // Nothing in the parent directory but the target, and nothing in the target but the
    // manifest's entries, with the manifest's types, modes, sizes and link targets.
    BOOST_TEST(snapshot(parent.path()) ==
               "target 0755 dir\n"
               "target/files 0755 dir\n"
               "target/files/bin 0755 dir\n"
               "target/files/bin/tool 0755 file 20\n"
               "target/files/etc 0755 dir\n"
               "target/files/etc/app.conf 0644 file 10\n"
               "target/files/etc/current 0777 link -> app.conf\n"
               "target/files/share 0755 dir\n"
               "target/files/share/app 0755 dir\n"
               "target/files/share/app/blob 0644 file 3145733\n"
               "target/files/share/app/doc 0755 dir\n"
               "target/files/share/app/doc/empty 0644 file 0\n"
               "target/files/share/app/tool 0777 link -> doc\n"
               "target/scripts 0755 dir\n"
               "target/scripts/install 0755 file 17\n"
               "target/scripts/uninstall 0755 file 17\n");

    for (const std::string d : {"", "/files", "/files/bin", "/files/etc", "/files/share",
                                "/files/share/app", "/files/share/app/doc", "/scripts"}) {
        BOOST_TEST_CONTEXT("directory " << d) {
            BOOST_TEST(S_ISDIR(lstat_of(target + d).st_mode));
            BOOST_TEST(permissions_of(target + d) == 0755u);
        }
    }
    BOOST_TEST(permissions_of(target + "/files/bin/tool") == 0755u);
    BOOST_TEST(permissions_of(target + "/files/etc/app.conf") == 0644u);
    BOOST_TEST(permissions_of(target + "/files/share/app/blob") == 0644u);
    BOOST_TEST(permissions_of(target + "/files/share/app/doc/empty") == 0644u);
    BOOST_TEST(permissions_of(target + "/scripts/install") == 0755u);
    BOOST_TEST(permissions_of(target + "/scripts/uninstall") == 0755u);

    BOOST_TEST(read_file(target + "/files/bin/tool") == "#!/bin/sh\necho tool\n");
    BOOST_TEST(read_file(target + "/files/etc/app.conf") == "key=value\n");
    BOOST_TEST((read_file(target + "/files/share/app/blob") == blob));
    BOOST_TEST(read_file(target + "/files/share/app/doc/empty").empty());
    BOOST_TEST(read_file(target + "/scripts/install") == "#!/bin/sh\nexit 0\n");

    BOOST_TEST(S_ISLNK(lstat_of(target + "/files/etc/current").st_mode));
    BOOST_TEST(link_target_of(target + "/files/etc/current") == "app.conf");
    BOOST_TEST(read_file(target + "/files/etc/current") == "key=value\n");
    BOOST_TEST(S_ISLNK(lstat_of(target + "/files/share/app/tool").st_mode));
    BOOST_TEST(link_target_of(target + "/files/share/app/tool") == "doc");

    BOOST_TEST(result.manifest.to_json() == package_manifest(entries).to_json());
    BOOST_TEST(result.files == 6u);
    BOOST_TEST(result.bytes == package_manifest(entries).total_file_bytes());
}

BOOST_AUTO_TEST_CASE(ProgressReachesTheTotal) {
    TempDir dir;
    test::write_package(dir / "p.ferry",
                        {file_entry("files/a", noise(100'000, 2)), file_entry("files/b", "b")});
    std::uint64_t last_done = 0;
    std::uint64_t last_total = 0;
    extract_package(dir / "p.ferry", dir / "target", {},
                    [&](std::uint64_t done, std::uint64_t total) {
                        BOOST_TEST(done >= last_done);
                        last_done = done;
                        last_total = total;
                    });
    BOOST_TEST(last_total == 100'001u);
    BOOST_TEST(last_done == last_total);
}

BOOST_AUTO_TEST_CASE(ArchiveOwnersAreNeverRestored) {
    // Running as root, restoring the archive's 1234/5678 would succeed: the files must belong
    // to whoever extracts.
    TempDir dir;
    const Manifest m =
        package_manifest({file_entry("files/a", "a"), file_entry("files/bin/t", "t", 0755),
                          link_entry("files/l", "a"), file_entry("scripts/check", "c", 0755)});
    {
        ArchiveBuilder b(dir / "p.ferry");
        b.owner(1234, 5678).manifest(m).dir("files").file("files/a", "a").dir("files/bin");
        b.file("files/bin/t", "t", 0755)
            .symlink("files/l", "a")
            .dir("scripts")
            .file("scripts/check", "c", 0755);
    }
    const std::string target = dir / "target";
    extract_package(dir / "p.ferry", target);
    std::size_t checked = 0;
    for (const auto& e : fs::recursive_directory_iterator(target)) {
        BOOST_TEST_CONTEXT(e.path().string()) {
            const struct stat st = lstat_of(e.path().string());
            BOOST_TEST(st.st_uid == ::geteuid());
            BOOST_TEST(st.st_gid == ::getegid());
            ++checked;
        }
    }
    BOOST_TEST(checked == m.files.size());
    BOOST_TEST(lstat_of(target).st_uid == ::geteuid());
}

// ---------------------------------------------------------------------------------------------
// The target.

BOOST_AUTO_TEST_CASE(ExistingTargetIsAlreadyExistsAndLeftUntouched) {
    Scene scene;
    test::write_package(scene.package, {file_entry("files/a", "new")});
    test::write_file(scene.target + "/files/a", "current install\n");
    const std::string before = snapshot(scene.dir.path());

    expect_error([&] { extract_package(scene.package, scene.target); }, ErrorCode::AlreadyExists,
                 "target: the extraction target already exists");
    BOOST_TEST(read_file(scene.target + "/files/a") == "current install\n");
    BOOST_TEST(snapshot(scene.dir.path()) == before);
    BOOST_TEST(scene.staging_leftovers().empty());
}

BOOST_AUTO_TEST_CASE(TargetThatIsASymlinkIsAlreadyExistsAndNotFollowed) {
    Scene scene;
    test::write_package(scene.package, {file_entry("files/a", "new")});
    fs::create_symlink(scene.victim, scene.target);
    expect_error([&] { extract_package(scene.package, scene.target); }, ErrorCode::AlreadyExists,
                 "already exists");
    BOOST_TEST(link_target_of(scene.target) == scene.victim);
    BOOST_TEST(snapshot(scene.victim).empty());
    BOOST_TEST(scene.staging_leftovers().empty());

    // A dangling symlink is just as much in the way.
    fs::remove(scene.target);
    fs::create_symlink(scene.dir / "nowhere", scene.target);
    expect_error([&] { extract_package(scene.package, scene.target); }, ErrorCode::AlreadyExists,
                 "already exists");
    BOOST_TEST(!path_exists(scene.dir / "nowhere"));
}

BOOST_AUTO_TEST_CASE(TargetCreatedDuringExtractionIsNeverReplaced) {
    // Someone else creates the target while the package is being extracted: the final rename
    // must not replace (or land inside) it, and the staging directory must go.
    Scene scene;
    test::write_package(scene.package,
                        {file_entry("files/a", "ours"), file_entry("files/b", "ours")});
    bool created = false;
    expect_error(
        [&] {
            extract_package(scene.package, scene.target, {}, [&](std::uint64_t, std::uint64_t) {
                if (!created) test::write_file(scene.target + "/files/a", "theirs\n");
                created = true;
            });
        },
        ErrorCode::AlreadyExists, "cannot move the extracted package to " + scene.target);
    BOOST_TEST(read_file(scene.target + "/files/a") == "theirs\n");
    BOOST_TEST(snapshot(scene.target) == "files 0755 dir\nfiles/a 0644 file 7\n");
    BOOST_TEST(scene.staging_leftovers().empty());
}

BOOST_AUTO_TEST_CASE(FailureInTheProgressCallbackRemovesTheStagingDirectory) {
    Scene scene;
    test::write_package(scene.package, {file_entry("files/a", "a"), file_entry("files/b", "b")});
    const std::string before = snapshot(scene.dir.path());
    expect_error(
        [&] {
            extract_package(scene.package, scene.target, {}, [](std::uint64_t done, std::uint64_t) {
                if (done > 0) throw Error(ErrorCode::Io, "interrupted by the test");
            });
        },
        ErrorCode::Io, "interrupted by the test");
    BOOST_TEST(!path_exists(scene.target));
    BOOST_TEST(scene.staging_leftovers().empty());
    BOOST_TEST(snapshot(scene.dir.path()) == before);
}

BOOST_AUTO_TEST_CASE(TargetInAMissingDirectoryIsNotFound) {
    Scene scene;
    test::write_package(scene.package, {file_entry("files/a", "a")});
    const std::string before = snapshot(scene.dir.path());
    expect_error([&] { extract_package(scene.package, scene.dir / "missing/target"); },
                 ErrorCode::NotFound,
                 "cannot create a staging directory for " + scene.dir / "missing/target");
    BOOST_TEST(snapshot(scene.dir.path()) == before);
}

BOOST_AUTO_TEST_CASE(MissingPackageIsNotFoundAndCreatesNothing) {
    Scene scene;
    expect_refused_cleanly(scene, ErrorCode::NotFound, "pkg.ferry: No such file or directory");
}

// ---------------------------------------------------------------------------------------------
// Case 18: paths that leave the target. The escaping entry comes after valid ones, so the
// staging directory holds files when the refusal comes.

BOOST_AUTO_TEST_CASE(EscapingPathsAreRefusedAndNothingLandsOutside) {
    for (const std::string path :
         {"../outside/x", "../x", "/abs", "files/a/../../outside/x", "files/../../x"}) {
        BOOST_TEST_CONTEXT(path) {
            Scene scene;
            // An absolute entry aims at the sentinel directory itself.
            const std::string entry = path == "/abs" ? scene.outside + "/abs" : path;
            const Manifest m =
                package_manifest({file_entry("files/a/b", "b"), file_entry("files/c", "c")});
            {
                ArchiveBuilder b(scene.package);
                b.manifest(m)
                    .dir("files")
                    .dir("files/a")
                    .file("files/a/b", "b")
                    .file("files/c", "c");
                b.file(entry, "escaped");
            }
            expect_refused_cleanly(scene, ErrorCode::UnsafeArchive, "entry \"" + entry + "\"");
            BOOST_TEST(!path_exists(scene.dir / "x"));
        }
    }
}

BOOST_AUTO_TEST_CASE(EscapingPathInTheManifestIsRefusedBeforeAnythingIsCreated) {
    Scene scene;
    Manifest m = package_manifest({file_entry("files/a", "a")});
    ManifestEntry evil;
    evil.path = "files/a/../../outside/x";
    evil.size = 7;
    evil.blake2b = hash_bytes("escaped", 7);
    m.files.push_back(evil);
    {
        ArchiveBuilder b(scene.package);
        b.manifest(m).dir("files").file("files/a", "a").file(evil.path, "escaped");
    }
    expect_refused_cleanly(scene, ErrorCode::InvalidInput, "path has a \"..\" component");
}

// ---------------------------------------------------------------------------------------------
// Case 19: writing through a symlink.

BOOST_AUTO_TEST_CASE(AbsoluteSymlinkThenAFileThroughItWritesNothingThere) {
    Scene scene;
    const Manifest m = package_manifest({dir_entry("files/sub"), link_entry("files/lnk", "sub")});
    {
        ArchiveBuilder b(scene.package);
        b.manifest(m)
            .dir("files")
            .symlink("files/lnk", scene.victim)
            .file("files/lnk/passwd", "root::0:0:::\n");
    }
    expect_refused_cleanly(scene, ErrorCode::UnsafeArchive,
                           "entry \"files/lnk\": link target is absolute");
}

BOOST_AUTO_TEST_CASE(ValidRelativeSymlinkThenAFileThroughItIsRefused) {
    Scene scene;
    const Manifest m = package_manifest({dir_entry("files/sub"), link_entry("files/lnk", "sub")});
    {
        ArchiveBuilder b(scene.package);
        b.manifest(m)
            .dir("files")
            .symlink("files/lnk", "sub")
            .dir("files/sub")
            .file("files/lnk/x", "through");
    }
    expect_refused_cleanly(scene, ErrorCode::UnsafeArchive,
                           "entry \"files/lnk/x\": not listed in the manifest");
}

BOOST_AUTO_TEST_CASE(SymlinkInPlaceOfAListedDirectoryIsRefused) {
    Scene scene;
    const Manifest m =
        package_manifest({file_entry("files/etc/passwd", "x"), dir_entry("files/other")});
    {
        ArchiveBuilder b(scene.package);
        b.manifest(m).dir("files").symlink("files/etc", "other").file("files/etc/passwd", "x");
    }
    expect_refused_cleanly(scene, ErrorCode::UnsafeArchive,
                           "is a symbolic link in the archive but a directory in the manifest");
}

// ---------------------------------------------------------------------------------------------
// Case 20: symlink targets.

BOOST_AUTO_TEST_CASE(SymlinkOutOfTheTargetIsRefused) {
    for (const std::string target : {"../outside", "../../victim", "sub/../../outside/sentinel"}) {
        BOOST_TEST_CONTEXT(target) {
            Scene scene;
            const Manifest m =
                package_manifest({dir_entry("files/sub"), link_entry("files/lnk", "sub")});
            {
                ArchiveBuilder b(scene.package);
                b.manifest(m).dir("files").symlink("files/lnk", target);
            }
            expect_refused_cleanly(scene, ErrorCode::UnsafeArchive,
                                   "link target has a \"..\" component");
        }
    }
    Scene scene;
    const Manifest m = package_manifest({link_entry("files/lnk", "../outside")});
    {
        ArchiveBuilder b(scene.package);
        b.manifest(m).dir("files").symlink("files/lnk", "../outside");
    }
    expect_refused_cleanly(scene, ErrorCode::InvalidInput,
                           "(files/lnk): link target has a \"..\" component");
}

// ---------------------------------------------------------------------------------------------
// Case 21: hard links.

BOOST_AUTO_TEST_CASE(HardLinksAreRefusedAndTheirTargetsKeepTheirLinkCount) {
    Scene scene;
    const nlink_t passwd_links = lstat_of("/etc/passwd").st_nlink;
    for (const std::string& target : {scene.sentinel, std::string("../outside/sentinel"),
                                      std::string("files/a"), std::string("/etc/passwd")}) {
        BOOST_TEST_CONTEXT(target) {
            const Manifest m =
                package_manifest({file_entry("files/a", "a"), file_entry("files/h", "")});
            {
                ArchiveBuilder b(scene.package);
                b.manifest(m).dir("files").file("files/a", "a").hardlink("files/h", target);
            }
            expect_refused_cleanly(scene, ErrorCode::UnsafeArchive,
                                   "hard links are not allowed in packages");
        }
    }
    BOOST_TEST(lstat_of("/etc/passwd").st_nlink == passwd_links);
}

// ---------------------------------------------------------------------------------------------
// Case 22: devices and FIFOs.

BOOST_AUTO_TEST_CASE(DevicesAndFifosAreNeverCreated) {
    const std::vector<std::pair<unsigned, std::string>> types = {
        {AE_IFCHR, "character device"}, {AE_IFBLK, "block device"}, {AE_IFIFO, "FIFO"}};
    for (const auto& [type, name] : types) {
        BOOST_TEST_CONTEXT(name) {
            Scene scene;
            const Manifest m =
                package_manifest({file_entry("files/a", "a"), file_entry("files/node", "")});
            {
                ArchiveBuilder b(scene.package);
                b.manifest(m).dir("files").file("files/a", "a").special("files/node", type);
            }
            expect_refused_cleanly(scene, ErrorCode::UnsafeArchive,
                                   name + " entries are not allowed");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Case 23: modes.

BOOST_AUTO_TEST_CASE(SetuidSetgidStickyAndWorldWritableEntriesAreNeverCreated) {
    const std::vector<std::pair<unsigned, std::string>> modes = {
        {04755, "setuid and setgid bits are not allowed"},
        {02755, "setuid and setgid bits are not allowed"},
        {01755, "the sticky bit is not allowed"},
        {0777, "world-writable modes are not allowed"}};
    for (const auto& [mode, reason] : modes) {
        BOOST_TEST_CONTEXT(std::oct << mode) {
            Scene scene;
            const Manifest m =
                package_manifest({file_entry("files/a", "a"), file_entry("files/su", "x", 0755)});
            {
                ArchiveBuilder b(scene.package);
                b.manifest(m).dir("files").file("files/a", "a").file("files/su", "x", mode);
            }
            expect_refused_cleanly(scene, ErrorCode::UnsafeArchive,
                                   "entry \"files/su\": " + reason);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Case 24: bombs.

BOOST_AUTO_TEST_CASE(GigabyteOfZerosIsRefusedWithoutWritingIt) {
    Scene scene;
    Manifest m = package_manifest({file_entry("files/zero", "")});
    m.files[1].size = 1ULL << 30;
    {
        ArchiveBuilder b(scene.package);
        b.manifest(m).dir("files").zeros("files/zero", 1ULL << 30);
    }
    ReadLimits limits;
    limits.max_unpacked_bytes = 64 << 20;
    expect_refused_cleanly(scene, ErrorCode::LimitExceeded,
                           "more than the unpacked-size limit of 67108864", limits);
}

BOOST_AUTO_TEST_CASE(HeaderThatLiesAboutItsSizeIsRefusedBeforeItsContent) {
    Scene scene;
    const Manifest m =
        package_manifest({file_entry("files/a", "a"), file_entry("files/zero", "small")});
    {
        ArchiveBuilder b(scene.package);
        b.manifest(m).dir("files").file("files/a", "a").zeros("files/zero", 1ULL << 30);
    }
    ReadLimits limits;
    limits.max_unpacked_bytes = 64 << 20;
    expect_refused_cleanly(scene, ErrorCode::VerificationFailed,
                           "entry \"files/zero\": size differs from the manifest", limits);
}

BOOST_AUTO_TEST_CASE(EntriesPastTheLimitStopExtractionAndEverythingWrittenIsRemoved) {
    // 1000 listed entries are written before the 1001st is refused.
    Scene scene;
    std::vector<TestEntry> listed;
    for (int i = 0; i < 999; ++i)
        listed.push_back(file_entry("files/f" + std::to_string(10000 + i), "x"));
    const Manifest m = package_manifest(listed);
    {
        ArchiveBuilder b(scene.package);
        b.manifest(m).dir("files");
        for (const auto& e : listed) b.file(e.path, "x");
        for (int i = 0; i < 100; ++i) b.file("files/g" + std::to_string(i), "x");
    }
    ReadLimits limits;
    limits.max_entries = 1000;
    expect_refused_cleanly(scene, ErrorCode::LimitExceeded, "more than 1000 entries in the archive",
                           limits);
}

BOOST_AUTO_TEST_CASE(NestingPastTheLimitIsRefusedAndRemoved) {
    Scene scene;
    std::string deep = "files";
    for (int i = 1; i <= 9; ++i) deep += "/d" + std::to_string(i);
    test::write_package(scene.package, {file_entry(deep + "/f", "deep")});
    ReadLimits limits;
    limits.max_depth = 8;
    expect_refused_cleanly(scene, ErrorCode::UnsafeArchive, "path nested deeper than 8 levels",
                           limits);
}

BOOST_AUTO_TEST_CASE(SixtyFourKilobyteNameIsRefused) {
    Scene scene;
    const Manifest m = package_manifest({file_entry("files/a", "a")});
    {
        ArchiveBuilder b(scene.package);
        b.manifest(m)
            .dir("files")
            .file("files/a", "a")
            .file("files/" + std::string(64 * 1024, 'n'), "x");
    }
    expect_refused_cleanly(scene, ErrorCode::UnsafeArchive, "path longer than 1024 bytes");
}

// ---------------------------------------------------------------------------------------------
// Case 25: the same path twice.

BOOST_AUTO_TEST_CASE(DuplicatePathsAreRefusedAndRemoved) {
    struct Case {
        std::string name;
        Manifest manifest;
        void (*entries)(ArchiveBuilder&);
    };
    const std::vector<Case> cases = {
        {"file then directory", package_manifest({file_entry("files/x", "x")}),
         [](ArchiveBuilder& b) { b.dir("files").file("files/x", "x").dir("files/x"); }},
        {"directory then symlink",
         package_manifest({dir_entry("files/x"), file_entry("files/x/y", "y")}),
         [](ArchiveBuilder& b) {
             b.dir("files")
                 .dir("files/x")
                 .symlink("files/x", "../../outside")
                 .file("files/x/y", "y");
         }},
        {"the same file twice", package_manifest({file_entry("files/x", "x")}),
         [](ArchiveBuilder& b) {
             b.dir("files").file("files/x", "x").file("files/x", "replaced");
         }},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            Scene scene;
            {
                ArchiveBuilder b(scene.package);
                b.manifest(c.manifest);
                c.entries(b);
            }
            expect_refused_cleanly(scene, ErrorCode::UnsafeArchive,
                                   "entry \"files/x\": appears twice in the archive");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Case 1 and late failures: the refusal comes after content has been written.

BOOST_AUTO_TEST_CASE(ChangedContentByteIsRefusedAfterWritingAndRemoved) {
    Scene scene;
    const std::string content = noise(200'000, 5);
    std::string changed = content;
    changed[150'000] = static_cast<char>(changed[150'000] ^ 0x01);
    const Manifest m =
        package_manifest({file_entry("files/a", "a"), file_entry("files/big", content)});
    {
        ArchiveBuilder b(scene.package);
        b.manifest(m).dir("files").file("files/a", "a").file("files/big", changed);
    }
    expect_refused_cleanly(scene, ErrorCode::VerificationFailed,
                           "entry \"files/big\": content hash differs");
}

BOOST_AUTO_TEST_CASE(FlippedByteInARealPackageIsRefusedAndRemoved) {
    Scene scene;
    const std::string src = scene.dir / "src";
    test::write_file(src + "/ferry.json",
                     R"({"name": "demo", "version": "1.0", "publisher": "Ferry Tests"})");
    test::write_file(src + "/files/bin/demo", "#!/bin/sh\necho demo\n", 0755);
    test::write_file(src + "/files/share/data", noise(2 << 20, 9));
    build_package(src, scene.package);
    BOOST_REQUIRE_NO_THROW(extract_package(scene.package, scene.dir / "probe"));
    fs::remove_all(scene.dir / "probe");

    std::string bytes = read_file(scene.package);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0xff);
    test::write_file(scene.package, bytes);
    const std::string before = snapshot(scene.dir.path());
    try {
        extract_package(scene.package, scene.target);
        BOOST_ERROR("a package with a flipped byte extracted");
    } catch (const Error& e) {
        BOOST_TEST(
            (e.code() == ErrorCode::VerificationFailed || e.code() == ErrorCode::UnsafeArchive),
            error_code_name(e.code()) << ": " << e.what());
    }
    BOOST_TEST(!path_exists(scene.target));
    BOOST_TEST(scene.staging_leftovers().empty());
    BOOST_TEST(snapshot(scene.dir.path()) == before);
}

BOOST_AUTO_TEST_CASE(FileMissingAtTheEndIsRefusedAfterEverythingElseWasWritten) {
    Scene scene;
    const Manifest m =
        package_manifest({file_entry("files/a", "a"), file_entry("files/b/c", noise(50'000, 4)),
                          file_entry("files/z", "z")});
    {
        ArchiveBuilder b(scene.package);
        b.manifest(m)
            .dir("files")
            .file("files/a", "a")
            .dir("files/b")
            .file("files/b/c", noise(50'000, 4));
    }
    expect_refused_cleanly(
        scene, ErrorCode::VerificationFailed,
        "entry \"files/z\": listed in the manifest but missing from the archive");
}
