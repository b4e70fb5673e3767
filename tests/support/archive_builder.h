// ArchiveBuilder: writes arbitrary (including hostile) zstd-compressed pax archives for tests,
// entry by entry, with no checks at all — the point is to feed the reader what an attacker
// would. package_manifest() builds a valid manifest for a list of entries so that a test can
// make a package that is valid except for the one thing it is testing.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ferry/manifest.h"

namespace ferry::test {

class ArchiveBuilder {
  public:
    explicit ArchiveBuilder(const std::string& path);
    ~ArchiveBuilder();
    ArchiveBuilder(const ArchiveBuilder&) = delete;
    ArchiveBuilder& operator=(const ArchiveBuilder&) = delete;

    ArchiveBuilder& file(const std::string& path, const std::string& content, unsigned mode = 0644);
    // A file of `size` zero bytes, written in chunks (for bombs).
    ArchiveBuilder& zeros(const std::string& path, std::uint64_t size, unsigned mode = 0644);
    // A header that declares `declared_size` followed by `content` (padding or truncating).
    ArchiveBuilder& file_with_declared_size(const std::string& path, const std::string& content,
                                            std::uint64_t declared_size, unsigned mode = 0644);
    ArchiveBuilder& dir(const std::string& path, unsigned mode = 0755);
    ArchiveBuilder& symlink(const std::string& path, const std::string& target);
    ArchiveBuilder& hardlink(const std::string& path, const std::string& target);
    // AE_IFCHR, AE_IFBLK, AE_IFIFO or AE_IFSOCK.
    ArchiveBuilder& special(const std::string& path, unsigned type);
    // ferry.json from a manifest's canonical JSON.
    ArchiveBuilder& manifest(const Manifest& manifest);
    // Owner fields for the next entries (default 0/0).
    ArchiveBuilder& owner(std::int64_t uid, std::int64_t gid);

    // Writes the end of the archive. Called by the destructor if not called before.
    void finish();

  private:
    void header(archive_entry* e);
    archive* a_ = nullptr;
    bool finished_ = false;
    std::int64_t uid_ = 0;
    std::int64_t gid_ = 0;
};

// Describes one entry for package_manifest().
struct TestEntry {
    // A constructor rather than an aggregate, so that brace lists may stop early without
    // -Wmissing-field-initializers.
    TestEntry(std::string path_, EntryType type_ = EntryType::File, std::string content_ = "",
              unsigned mode_ = 0644, std::string target_ = "")
        : path(std::move(path_)),
          type(type_),
          content(std::move(content_)),
          mode(mode_),
          target(std::move(target_)) {}

    std::string path;
    EntryType type = EntryType::File;
    std::string content;  // files
    unsigned mode = 0644;
    std::string target;  // symlinks
};

inline TestEntry file_entry(const std::string& path, const std::string& content,
                            unsigned mode = 0644) {
    return TestEntry{path, EntryType::File, content, mode, ""};
}
inline TestEntry dir_entry(const std::string& path) {
    return TestEntry{path, EntryType::Directory, "", 0755, ""};
}
inline TestEntry link_entry(const std::string& path, const std::string& target) {
    return TestEntry{path, EntryType::Symlink, "", 0777, target};
}

// A valid package manifest (name "test", version "1.0") listing the entries, with "files" and
// any needed parent directories, sorted, hashed. Does not validate: tests may list bad entries.
Manifest package_manifest(const std::vector<TestEntry>& entries);

// Writes ferry.json and every entry of `entries` in order into a new archive at `path`.
void write_package(const std::string& path, const std::vector<TestEntry>& entries);

// Hand-made tar, for what the libarchive writer refuses to produce (socket type bits in a
// header, sparse maps). These build uncompressed tar bytes; write_zstd compresses them.

// One 512-byte ustar header block with a correct checksum. `mode` is written as given, type
// bits included; `typeflag` is the raw tar type ('0' file, '5' directory, 'x' pax header...).
std::string tar_header(const std::string& name, char typeflag, unsigned mode, std::uint64_t size,
                       const std::string& linkname = "");
// `content` padded with zeros to a whole number of 512-byte blocks.
std::string tar_padded(const std::string& content);
// One pax extended-header record: "<length> <key>=<value>\n".
std::string pax_record(const std::string& key, const std::string& value);
// The end-of-archive marker: two zero blocks.
std::string tar_end();

// Writes `bytes` zstd-compressed to `path`, unchanged (no tar framing is added).
void write_zstd(const std::string& path, const std::string& bytes);

}  // namespace ferry::test
