// PackageReader: a streaming, verifying reader of .ferry archives.
//
// The first entry must be ferry.json; it is parsed and validated as a package manifest before
// anything else is read. Every later entry is checked against it before the caller sees it:
// the path (relative, no "..", under files/ or scripts/, within the length and depth limits),
// the type (regular file, directory or symlink only: never hard links, devices, FIFOs or
// sockets), the mode (no setuid, setgid, sticky or world-writable bits, and equal to the
// manifest's), the size, the symlink target, the order (a parent directory before its
// children) and uniqueness. File content is hashed as it is read; the end of each file checks
// its size and BLAKE2b-256. The end of the archive checks that every manifest entry appeared.
// Owners, times, ACLs and extended attributes in the archive are ignored, never used.
//
// Failures: Error(UnsafeArchive) for an entry that could escape or damage a target,
// Error(VerificationFailed) for content that does not match the manifest or a corrupt stream,
// Error(LimitExceeded) past a limit, Error(InvalidInput) for a file that is not a package.
// Messages name the package and the entry.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ferry/error.h"
#include "ferry/hash.h"
#include "ferry/manifest.h"
#include "ferry/progress.h"

struct archive;

namespace ferry {

struct ReadLimits {
    std::uint64_t max_unpacked_bytes = 32ULL << 30;  // sum of file sizes
    std::uint64_t max_entries = kDefaultMaxEntries;
    std::size_t max_manifest_bytes = 32 << 20;
    std::size_t max_path_bytes = 1024;
    std::size_t max_depth = 32;
};

// How file content is checked. EveryFileHash recomputes each file's BLAKE2b-256 against the
// manifest. ObjectIdOnly relies on the whole file hashing to the expected object id (which
// pins every byte of every entry) and checks sizes and structure only; it requires an
// expected object id.
enum class ContentCheck { EveryFileHash, ObjectIdOnly };

class PackageReader {
  public:
    // Opens the package and reads its manifest. Throws as described above.
    //
    // With `expected_object_id` (the id a signature or policy vouched for), the raw bytes are
    // hashed as they are read, and next() reports the end of the archive only once the whole
    // file has been read and hashes to that id: what was verified is what was read, even if
    // the file is replaced or rewritten in between. Error(VerificationFailed) otherwise.
    explicit PackageReader(const std::string& path, ReadLimits limits = {},
                           std::optional<std::string> expected_object_id = std::nullopt,
                           ContentCheck check = ContentCheck::EveryFileHash);
    ~PackageReader();
    PackageReader(const PackageReader&) = delete;
    PackageReader& operator=(const PackageReader&) = delete;

    const Manifest& manifest() const { return manifest_; }
    // The exact bytes of ferry.json as stored in the package.
    const std::string& manifest_json() const { return manifest_json_; }

    // Advances to the next entry and returns its (checked) manifest entry, or nullptr at the
    // end of the archive once every manifest entry has been seen. The previous file's content
    // must have been read to its end.
    const ManifestEntry* next();

    // Reads the next block of the current file entry. Returns false at the end of the entry,
    // after checking its size and hash. The block stays valid until the next call.
    bool read_block(const void*& data, std::size_t& size);

    // Bytes of file content read so far, over all entries.
    std::uint64_t bytes_read() const { return bytes_read_; }

    // The raw file, read by libarchive through a callback so that it can be hashed (on a
    // thread of its own, through `side`) when an object id is expected.
    struct Source {
        ~Source();
        int fd = -1;
        std::vector<char> buffer;
        std::unique_ptr<ObjectHasher> hasher;
        std::unique_ptr<class SideHasher> side;
    };

  private:
    void open_source();
    void read_manifest();
    void check_expected_object_id();
    void check_entry_header(const std::string& path, bool is_directory);
    [[noreturn]] void fail(ErrorCode code, const std::string& entry, const std::string& what) const;

    std::string path_;
    ReadLimits limits_;
    std::optional<std::string> expected_object_id_;
    ContentCheck check_;
    Source source_;
    archive* archive_ = nullptr;
    Manifest manifest_;
    std::string manifest_json_;
    std::unordered_map<std::string, std::size_t> index_;  // path -> manifest_.files index
    std::set<std::string> seen_;
    std::uint64_t entries_ = 0;
    std::uint64_t bytes_read_ = 0;

    bool at_end_ = false;
    const ManifestEntry* current_ = nullptr;
    std::uint64_t current_read_ = 0;
    std::unique_ptr<ObjectHasher> current_hash_;
    bool current_done_ = true;
};

// Reads every entry of a package and checks it against the manifest, without writing
// anything. Returns the manifest. Throws as PackageReader does.
Manifest verify_package_contents(PackageReader& reader, const ProgressFn& progress = nullptr);
Manifest verify_package_contents(
    const std::string& path, const ReadLimits& limits = {}, const ProgressFn& progress = nullptr,
    const std::optional<std::string>& expected_object_id = std::nullopt);

}  // namespace ferry
