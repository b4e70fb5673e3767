#include "ferry/package_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "archive_handle.h"
#include "archive_path.h"
#include "fd_io.h"
#include "ferry/error.h"
#include "side_hasher.h"

namespace ferry {
namespace {

constexpr std::size_t kReadBlock = 1 << 20;
constexpr std::size_t kRawHashSlots = 4;

const char* describe_type(mode_t type) {
    switch (type) {
        case AE_IFCHR:
            return "character device";
        case AE_IFBLK:
            return "block device";
        case AE_IFIFO:
            return "FIFO";
        case AE_IFSOCK:
            return "socket";
        default:
            return "unsupported entry type";
    }
}

// Entry names come from the archive: escape control bytes so an error message can never
// drive the terminal it is printed on.
std::string printable(const std::string& name) {
    std::string out;
    for (char c : name.substr(0, 200)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
    return name.size() > 200 ? out + "…" : out;
}

la_ssize_t read_source(archive* a, void* context, const void** block) {
    auto* source = static_cast<PackageReader::Source*>(context);
    std::vector<char>& buffer = source->side ? source->side->next_block() : source->buffer;
    for (;;) {
        const ssize_t n = ::read(source->fd, buffer.data(), buffer.size());
        if (n >= 0) {
            if (source->side) source->side->publish(static_cast<std::size_t>(n));
            *block = buffer.data();
            return n;
        }
        if (errno != EINTR) {
            archive_set_error(a, errno, "read error");
            return -1;
        }
    }
}

}  // namespace

PackageReader::Source::~Source() = default;

PackageReader::PackageReader(const std::string& path, ReadLimits limits,
                             std::optional<std::string> expected_object_id, ContentCheck check)
    : path_(path),
      limits_(limits),
      expected_object_id_(std::move(expected_object_id)),
      check_(check),
      archive_(archive_read_new()) {
    if (archive_ == nullptr) throw Error(ErrorCode::Internal, "cannot create an archive reader");
    if (check_ == ContentCheck::ObjectIdOnly && !expected_object_id_) {
        archive_read_free(archive_);
        throw Error(ErrorCode::Internal, "ContentCheck::ObjectIdOnly needs an expected object id");
    }
    try {
        open_source();
        // Only zstd-compressed tar is a package: every other format and filter stays disabled.
        check_archive(archive_, archive_read_support_filter_zstd(archive_), "zstd support");
        check_archive(archive_, archive_read_support_format_tar(archive_), "tar support");
        if (archive_read_open(archive_, &source_, nullptr, read_source, nullptr) != ARCHIVE_OK) {
            throw Error(ErrorCode::InvalidInput,
                        path + ": not a Ferry package (" + archive_message(archive_) + ")");
        }
        // libarchive always accepts uncompressed input (its pass-through filter cannot be
        // disabled) and stacks zstd on zstd as often as the data asks: insist on exactly one
        // zstd layer over the file.
        if (archive_filter_count(archive_) != 2 ||
            archive_filter_code(archive_, 0) != ARCHIVE_FILTER_ZSTD) {
            throw Error(ErrorCode::InvalidInput,
                        path + ": not a Ferry package (not one zstd-compressed tar stream)");
        }
        read_manifest();
    } catch (...) {
        archive_read_free(archive_);
        archive_ = nullptr;
        if (source_.fd >= 0) ::close(source_.fd);
        throw;
    }
}

PackageReader::~PackageReader() {
    if (archive_ != nullptr) archive_read_free(archive_);
    if (source_.fd >= 0) ::close(source_.fd);
}

void PackageReader::open_source() {
    // O_NONBLOCK: opening a FIFO someone named as a package must not hang; it is refused below.
    source_.fd = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (source_.fd < 0) throw_system_error("cannot open " + path_);
    struct stat st {};
    if (::fstat(source_.fd, &st) != 0) throw_system_error("cannot stat " + path_);
    if (!S_ISREG(st.st_mode)) throw Error(ErrorCode::InvalidInput, path_ + ": not a regular file");
    ::posix_fadvise(source_.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (expected_object_id_) {
        source_.hasher = std::make_unique<ObjectHasher>();
        source_.side = std::make_unique<SideHasher>(*source_.hasher, kRawHashSlots, kReadBlock);
    } else {
        source_.buffer.resize(kReadBlock);
    }
}

void PackageReader::check_expected_object_id() {
    if (!expected_object_id_) return;
    // libarchive stops at the tar end marker; the rest of the file counts towards the id too.
    for (;;) {
        std::vector<char>& block = source_.side->next_block();
        const std::size_t n = read_some(source_.fd, block.data(), block.size(), path_);
        if (n == 0) break;
        source_.side->publish(n);
    }
    source_.side->finish();
    const std::string actual = source_.hasher->finish_hex();
    if (actual != *expected_object_id_) {
        throw Error(ErrorCode::VerificationFailed,
                    path_ + ": the bytes read are not the verified object " + *expected_object_id_ +
                        " but " + actual + " (was the file changed while it was being read?)");
    }
}

void PackageReader::fail(ErrorCode code, const std::string& entry, const std::string& what) const {
    throw Error(code, path_ + ": entry \"" + printable(entry) + "\": " + what);
}

void PackageReader::read_manifest() {
    archive_entry* entry = nullptr;
    const int r = archive_read_next_header(archive_, &entry);
    if (r != ARCHIVE_OK) {
        throw Error(ErrorCode::InvalidInput, path_ + ": not a Ferry package (" +
                                                 (r == ARCHIVE_EOF ? std::string("empty archive")
                                                                   : archive_message(archive_)) +
                                                 ")");
    }
    const char* name = archive_entry_pathname(entry);
    if (name == nullptr || std::string(name) != "ferry.json" ||
        archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry) != nullptr) {
        throw Error(ErrorCode::InvalidInput, path_ +
                                                 ": not a Ferry package: the first entry must be "
                                                 "the regular file ferry.json");
    }
    const la_int64_t size = archive_entry_size(entry);
    if (size < 0 || static_cast<std::uint64_t>(size) > limits_.max_manifest_bytes) {
        throw Error(ErrorCode::LimitExceeded, path_ + ": ferry.json is larger than the limit of " +
                                                  std::to_string(limits_.max_manifest_bytes) +
                                                  " bytes");
    }
    manifest_json_.resize(static_cast<std::size_t>(size));
    std::size_t got = 0;
    while (got < manifest_json_.size()) {
        const la_ssize_t n =
            archive_read_data(archive_, manifest_json_.data() + got, manifest_json_.size() - got);
        if (n < 0)
            throw Error(ErrorCode::VerificationFailed,
                        path_ + ": corrupt package: " + archive_message(archive_));
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    if (got != manifest_json_.size()) {
        throw Error(ErrorCode::VerificationFailed,
                    path_ + ": corrupt package: ferry.json is truncated");
    }
    manifest_ =
        Manifest::parse_package(manifest_json_, path_ + ": ferry.json", limits_.max_entries);
    if (manifest_.files.size() > limits_.max_entries) {
        throw Error(ErrorCode::LimitExceeded,
                    path_ + ": the manifest lists " + std::to_string(manifest_.files.size()) +
                        " entries, more than the limit of " + std::to_string(limits_.max_entries));
    }
    if (manifest_.total_file_bytes() > limits_.max_unpacked_bytes) {
        throw Error(ErrorCode::LimitExceeded, path_ + ": the manifest declares " +
                                                  std::to_string(manifest_.total_file_bytes()) +
                                                  " bytes, more than the unpacked-size limit of " +
                                                  std::to_string(limits_.max_unpacked_bytes));
    }
    for (std::size_t i = 0; i < manifest_.files.size(); ++i) index_[manifest_.files[i].path] = i;
}

void PackageReader::check_entry_header(const std::string& path, bool is_directory) {
    // The path alone, before anything else about the entry is considered. The two top-level
    // directories are the only one-component paths, and only as directories.
    const bool top_dir = is_directory && (path == "files" || path == "scripts");
    if (!top_dir) {
        const std::string reason =
            check_entry_path(path, limits_.max_path_bytes, limits_.max_depth);
        if (!reason.empty()) fail(ErrorCode::UnsafeArchive, path, reason);
    }
    if (!seen_.insert(path).second)
        fail(ErrorCode::UnsafeArchive, path, "appears twice in the archive");
}

const ManifestEntry* PackageReader::next() {
    if (!current_done_) {
        throw Error(ErrorCode::Internal,
                    "PackageReader::next called before the current entry was read");
    }
    if (at_end_) return nullptr;
    archive_entry* entry = nullptr;
    const int r = archive_read_next_header(archive_, &entry);
    if (r == ARCHIVE_EOF) {
        for (const auto& e : manifest_.files) {
            if (seen_.count(e.path) == 0) {
                fail(ErrorCode::VerificationFailed, e.path,
                     "listed in the manifest but missing from the archive");
            }
        }
        check_expected_object_id();
        at_end_ = true;
        current_ = nullptr;
        return nullptr;
    }
    if (r != ARCHIVE_OK) {
        throw Error(ErrorCode::VerificationFailed,
                    path_ + ": corrupt package: " + archive_message(archive_));
    }
    if (++entries_ > limits_.max_entries) {
        throw Error(ErrorCode::LimitExceeded, path_ + ": more than " +
                                                  std::to_string(limits_.max_entries) +
                                                  " entries in the archive");
    }
    const char* raw_name = archive_entry_pathname(entry);
    std::string path = raw_name != nullptr ? raw_name : "";
    const mode_t type = archive_entry_filetype(entry);
    // tar writers end directory names with one '/'; it is not part of the path.
    if (type == AE_IFDIR && path.size() > 1 && path.back() == '/') path.pop_back();
    check_entry_header(path, type == AE_IFDIR);

    if (archive_entry_hardlink(entry) != nullptr) {
        fail(ErrorCode::UnsafeArchive, path, "hard links are not allowed in packages");
    }
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
        fail(ErrorCode::UnsafeArchive, path,
             std::string(describe_type(type)) + " entries are not allowed");
    }
    const auto perm = static_cast<std::uint32_t>(archive_entry_perm(entry));
    if ((perm & 06000) != 0)
        fail(ErrorCode::UnsafeArchive, path, "setuid and setgid bits are not allowed");
    if ((perm & 01000) != 0 && type != AE_IFLNK)
        fail(ErrorCode::UnsafeArchive, path, "the sticky bit is not allowed");
    if ((perm & 0002) != 0 && type != AE_IFLNK)
        fail(ErrorCode::UnsafeArchive, path, "world-writable modes are not allowed");

    const auto found = index_.find(path);
    if (found == index_.end()) fail(ErrorCode::UnsafeArchive, path, "not listed in the manifest");
    const ManifestEntry& expected = manifest_.files[found->second];

    const EntryType actual_type = type == AE_IFREG   ? EntryType::File
                                  : type == AE_IFDIR ? EntryType::Directory
                                                     : EntryType::Symlink;
    if (actual_type != expected.type) {
        fail(ErrorCode::UnsafeArchive, path,
             std::string("is a ") + entry_type_name(actual_type) + " in the archive but a " +
                 entry_type_name(expected.type) + " in the manifest");
    }
    const std::string parent = parent_of(path);
    if (!parent.empty() && seen_.count(parent) == 0) {
        fail(ErrorCode::UnsafeArchive, path, "appears before its parent directory");
    }
    if (actual_type == EntryType::Symlink) {
        const char* target = archive_entry_symlink(entry);
        const std::string link = target != nullptr ? target : "";
        const std::string why = check_symlink_target(link);
        if (!why.empty())
            fail(ErrorCode::UnsafeArchive, path, why + " (\"" + link.substr(0, 200) + "\")");
        if (link != expected.target)
            fail(ErrorCode::VerificationFailed, path, "link target differs from the manifest");
    } else if (perm != expected.mode) {
        fail(ErrorCode::UnsafeArchive, path, "mode differs from the manifest");
    }
    if (actual_type == EntryType::File) {
        if (!archive_entry_size_is_set(entry) || archive_entry_size(entry) < 0 ||
            static_cast<std::uint64_t>(archive_entry_size(entry)) != expected.size) {
            fail(ErrorCode::VerificationFailed, path, "size differs from the manifest");
        }
        current_hash_ =
            check_ == ContentCheck::EveryFileHash ? std::make_unique<ObjectHasher>() : nullptr;
        current_read_ = 0;
        current_done_ = false;
    }
    current_ = &expected;
    return current_;
}

bool PackageReader::read_block(const void*& data, std::size_t& size) {
    if (current_done_ || current_ == nullptr) return false;
    la_int64_t offset = 0;
    const int r = archive_read_data_block(archive_, &data, &size, &offset);
    if (r == ARCHIVE_EOF) {
        current_done_ = true;
        if (current_read_ != current_->size) {
            fail(ErrorCode::VerificationFailed, current_->path,
                 "content is shorter than the manifest says");
        }
        if (current_hash_ && current_hash_->finish_hex() != current_->blake2b) {
            fail(ErrorCode::VerificationFailed, current_->path,
                 "content hash differs from the manifest");
        }
        return false;
    }
    if (r != ARCHIVE_OK) {
        throw Error(ErrorCode::VerificationFailed, path_ + ": corrupt package in \"" +
                                                       current_->path +
                                                       "\": " + archive_message(archive_));
    }
    // tar has no holes in Ferry packages: a block must continue exactly where the last ended.
    if (offset < 0 || static_cast<std::uint64_t>(offset) != current_read_) {
        fail(ErrorCode::UnsafeArchive, current_->path, "sparse entries are not allowed");
    }
    current_read_ += size;
    bytes_read_ += size;
    if (current_read_ > current_->size) {
        fail(ErrorCode::VerificationFailed, current_->path,
             "content is longer than the manifest says");
    }
    if (bytes_read_ > limits_.max_unpacked_bytes) {
        throw Error(ErrorCode::LimitExceeded, path_ + ": more than " +
                                                  std::to_string(limits_.max_unpacked_bytes) +
                                                  " bytes unpacked");
    }
    if (current_hash_) current_hash_->update(data, size);
    return true;
}

Manifest verify_package_contents(const std::string& path, const ReadLimits& limits,
                                 const ProgressFn& progress,
                                 const std::optional<std::string>& expected_object_id) {
    PackageReader reader(path, limits, expected_object_id);
    return verify_package_contents(reader, progress);
}

Manifest verify_package_contents(PackageReader& reader, const ProgressFn& progress) {
    const std::uint64_t total = reader.manifest().total_file_bytes();
    while (reader.next() != nullptr) {
        const void* data = nullptr;
        std::size_t size = 0;
        while (reader.read_block(data, size)) {
        }
        if (progress) progress(reader.bytes_read(), total);
    }
    return reader.manifest();
}

}  // namespace ferry
