#include "ferry/package_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__GLIBC__)
#endif

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "archive_handle.h"
#include "fd_io.h"
#include "ferry/atomic_file.h"
#include "ferry/error.h"
#include "ferry/hash.h"
#include "ferry/package_reader.h"
#include "unique_fd.h"

namespace fs = std::filesystem;

namespace ferry {
namespace {

constexpr std::size_t kSourceManifestMax = 1 << 20;
constexpr std::size_t kIoBlock = 1 << 20;
constexpr std::size_t kCopyBlock = 256 << 10;

// zstd worker threads. Streaming multi-threaded zstd writes the same bytes for any number of
// workers from 1 up (facebook/zstd#2238; only 0, single-threaded framing, differs), so the
// count is chosen for memory, not reproducibility: each extra worker holds about 16 MiB more
// of job buffers, and one worker already compresses in parallel with this thread, which
// reads, frames and hashes. Packages are byte-identical whatever the count.
constexpr int kZstdWorkers = 1;
static_assert(kZstdWorkers >= 1,
              "0 workers would switch zstd to single-threaded framing and other bytes");

bool is_valid_utf8(const std::string& s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t extra = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            extra = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            cp = c & 0x07;
        } else
            return false;
        if (i + extra >= s.size()) return false;
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        const std::uint32_t min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += extra + 1;
    }
    return true;
}

Error source_error(const std::string& path, const std::string& what) {
    return Error(ErrorCode::InvalidInput, path + ": " + what);
}

// Adds `dir` (archive path `archive_dir`) and everything below it to `entries`, sorted.
void scan_tree(const fs::path& dir, const std::string& archive_dir,
               std::vector<ManifestEntry>& entries, std::vector<std::string>& disk_paths) {
    std::vector<fs::directory_entry> children;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        children.push_back(*it);
    }
    if (ec) throw Error(ErrorCode::Io, dir.string() + ": cannot list directory: " + ec.message());
    std::sort(children.begin(), children.end(), [](const auto& a, const auto& b) {
        return a.path().filename().string() < b.path().filename().string();
    });
    for (const auto& child : children) {
        const std::string name = child.path().filename().string();
        const std::string disk = child.path().string();
        const std::string archive_path = archive_dir + "/" + name;
        if (!is_valid_utf8(name)) throw source_error(disk, "file name is not valid UTF-8");
        const std::string reason = check_entry_path(archive_path);
        if (!reason.empty()) throw source_error(disk, reason);
        struct stat st {};
        if (::lstat(disk.c_str(), &st) != 0) throw_system_error("cannot stat " + disk);
        ManifestEntry e;
        e.path = archive_path;
        if (S_ISREG(st.st_mode)) {
            e.type = EntryType::File;
            e.mode = (st.st_mode & 0111) != 0 ? 0755 : 0644;
            e.size = static_cast<std::uint64_t>(st.st_size);
            entries.push_back(e);
            disk_paths.push_back(disk);
        } else if (S_ISDIR(st.st_mode)) {
            e.type = EntryType::Directory;
            e.mode = 0755;
            entries.push_back(e);
            disk_paths.push_back(disk);
            scan_tree(child.path(), archive_path, entries, disk_paths);
        } else if (S_ISLNK(st.st_mode)) {
            e.type = EntryType::Symlink;
            e.mode = 0777;
            std::error_code link_ec;
            e.target = fs::read_symlink(child.path(), link_ec).string();
            if (link_ec) throw source_error(disk, "cannot read link: " + link_ec.message());
            const std::string why = check_symlink_target(e.target);
            if (!why.empty()) throw source_error(disk, why + " (\"" + e.target + "\")");
            if (!is_valid_utf8(e.target))
                throw source_error(disk, "link target is not valid UTF-8");
            entries.push_back(e);
            disk_paths.push_back(disk);
        } else {
            throw source_error(disk,
                               "is a device, FIFO or socket; packages hold only files, "
                               "directories and symbolic links");
        }
    }
}

// The object id of one file, read through `buffer` (reused from file to file: allocating and
// zeroing a fresh megabyte for each of thousands of small files costs more than hashing them).
std::string hash_file_with(const std::string& path, std::vector<char>& buffer) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_system_error("cannot open " + path);
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    ObjectHasher hasher;
    while (const std::size_t n = read_some(fd.get(), buffer.data(), buffer.size(), path))
        hasher.update(buffer.data(), n);
    return hasher.finish_hex();
}

// Hashes the files among `entries` on up to two threads; entries are independent.
void hash_files(std::vector<ManifestEntry>& entries, const std::vector<std::string>& disk_paths,
                const ProgressFn& progress) {
    std::uint64_t total = 0;
    for (const auto& e : entries) total += e.size;
    std::atomic<std::size_t> next{0};
    std::atomic<std::uint64_t> done{0};
    std::vector<std::exception_ptr> errors(2);
    auto worker = [&](std::size_t slot) {
        try {
            std::vector<char> buffer(kIoBlock);
            for (std::size_t i = next++; i < entries.size(); i = next++) {
                if (entries[i].type != EntryType::File) continue;
                entries[i].blake2b = hash_file_with(disk_paths[i], buffer);
                done += entries[i].size;
                if (slot == 0 && progress) progress(done, total);  // only this thread reports
            }
        } catch (...) {
            errors[slot] = std::current_exception();
            next = entries.size();
        }
    };
    std::thread helper(worker, 1);
    worker(0);
    helper.join();
    for (auto& e : errors) {
        if (e) std::rethrow_exception(e);
    }
    if (progress) progress(done, total);
}

// Output written and not yet handed to the disk after which writeback is started.
constexpr std::uint64_t kWritebackChunk = 8 << 20;

// Output sink of the archive writer: the file, plus both hashes computed as bytes pass.
struct OutputSink {
    AtomicFile* file;
    ObjectHasher object_hasher;
    Blake2b prehasher{64};
    std::uint64_t size = 0;
    std::exception_ptr error;
    std::uint64_t writeback_started = 0;  // bytes before this offset are on their way to disk
};

la_ssize_t sink_write(archive*, void* context, const void* buffer, size_t length) {
    auto* sink = static_cast<OutputSink*>(context);
    try {
        sink->file->write(buffer, length);
        sink->object_hasher.update(buffer, length);
        sink->prehasher.update(buffer, length);
        sink->size += length;
        if (sink->size - sink->writeback_started >= kWritebackChunk) {
            // Start writing what is done while compression goes on, so that the fsync before
            // the rename waits for the last few megabytes instead of the whole package. Only
            // a hint: a failure here changes nothing, the fsync still decides.
            ::sync_file_range(sink->file->fd(), static_cast<off_t>(sink->writeback_started),
                              static_cast<off_t>(sink->size - sink->writeback_started),
                              SYNC_FILE_RANGE_WRITE);
            sink->writeback_started = sink->size;
        }
        return static_cast<la_ssize_t>(length);
    } catch (...) {
        sink->error = std::current_exception();
        return -1;
    }
}

int sink_close(archive*, void*) { return ARCHIVE_OK; }

class PackageArchiveWriter {
  public:
    PackageArchiveWriter(OutputSink& sink, int level, bool has_non_ascii_names)
        : a_(archive_write_new()) {
        if (!a_) throw Error(ErrorCode::Internal, "cannot create an archive writer");
        archive* a = a_.get();
        check_archive(a, archive_write_set_format_pax_restricted(a), "pax format");
        check_archive(a, archive_write_add_filter_zstd(a), "zstd filter");
        check_archive(a,
                      archive_write_set_filter_option(a, "zstd", "compression-level",
                                                      std::to_string(level).c_str()),
                      "zstd compression level");
        check_archive(a,
                      archive_write_set_filter_option(a, "zstd", "threads",
                                                      std::to_string(kZstdWorkers).c_str()),
                      "zstd threads");
        // Non-ASCII names (UTF-8: scan_source refused anything else) are stored as the bytes they
        // are, whatever the build machine's locale. Only then: GNU tar warns on every
        // "hdrcharset" record it meets, and ASCII names need none. The choice depends on the
        // source alone, so builds stay reproducible.
        if (has_non_ascii_names) {
            check_archive(a, archive_write_set_format_option(a, "pax", "hdrcharset", "BINARY"),
                          "pax header charset");
        }
        check_archive(a, archive_write_set_bytes_per_block(a, kIoBlock), "block size");
        check_archive(a, archive_write_set_bytes_in_last_block(a, 1), "last block size");
        check_archive(a, archive_write_open(a, &sink, nullptr, sink_write, sink_close),
                      "cannot start the archive");
    }

    void add_header(const ManifestEntry& e) {
        ArchiveEntry entry(archive_entry_new());
        archive_entry_copy_pathname(entry.get(), e.path.c_str());
        archive_entry_set_mtime(entry.get(), 0, 0);
        archive_entry_set_uid(entry.get(), 0);
        archive_entry_set_gid(entry.get(), 0);
        archive_entry_set_perm(entry.get(), e.mode);
        switch (e.type) {
            case EntryType::File:
                archive_entry_set_filetype(entry.get(), AE_IFREG);
                archive_entry_set_size(entry.get(), static_cast<la_int64_t>(e.size));
                break;
            case EntryType::Directory:
                archive_entry_set_filetype(entry.get(), AE_IFDIR);
                archive_entry_set_size(entry.get(), 0);
                break;
            case EntryType::Symlink:
                archive_entry_set_filetype(entry.get(), AE_IFLNK);
                archive_entry_copy_symlink(entry.get(), e.target.c_str());
                archive_entry_set_size(entry.get(), 0);
                break;
        }
        check(archive_write_header(a_.get(), entry.get()), "cannot write the header of " + e.path);
    }

    void add_data(const void* data, std::size_t size, const std::string& path) {
        const la_ssize_t n = archive_write_data(a_.get(), data, size);
        if (n < 0 || static_cast<std::size_t>(n) != size) {
            check(ARCHIVE_FATAL, "cannot write the content of " + path);
        }
    }

    void close() { check(archive_write_close(a_.get()), "cannot finish the archive"); }

    void set_sink(OutputSink* sink) { sink_ = sink; }

  private:
    void check(int result, const std::string& what) {
        if (result == ARCHIVE_OK) return;
        if (sink_ != nullptr && sink_->error) std::rethrow_exception(sink_->error);
        throw Error(ErrorCode::Internal, what + ": " + archive_message(a_.get()));
    }

    ArchiveWriter a_;
    OutputSink* sink_ = nullptr;
};

// Copies one file into the archive, hashing what it copies: the manifest was written from an
// earlier read, and a file changed in between must fail the build, not yield a package whose
// content contradicts its own manifest (and a signature over it).
void copy_file_into(PackageArchiveWriter& writer, const ManifestEntry& e, const std::string& disk,
                    std::vector<char>& buffer, std::uint64_t& done, std::uint64_t total,
                    const ProgressFn& progress) {
    UniqueFd fd(::open(disk.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) throw_system_error("cannot open " + disk);
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    ObjectHasher hasher;
    std::uint64_t copied = 0;
    while (const std::size_t n = read_some(fd.get(), buffer.data(), buffer.size(), disk)) {
        copied += n;
        if (copied > e.size) break;
        hasher.update(buffer.data(), n);
        writer.add_data(buffer.data(), n, e.path);
        done += n;
        if (progress) progress(done, total);
    }
    if (copied != e.size || hasher.finish_hex() != e.blake2b) {
        throw Error(ErrorCode::InvalidInput,
                    disk + ": file changed while the package was built; build again");
    }
}

// The writer refuses what the default reader would refuse, so that a build never succeeds
// with a package no one can open.
void check_reader_limits(const Manifest& manifest, const std::string& src_dir) {
    const ReadLimits limits;
    if (manifest.files.size() > limits.max_entries) {
        throw Error(ErrorCode::LimitExceeded,
                    src_dir + ": " + std::to_string(manifest.files.size()) +
                        " entries, more than the " + std::to_string(limits.max_entries) +
                        " a package may hold");
    }
    if (manifest.total_file_bytes() > limits.max_unpacked_bytes) {
        throw Error(ErrorCode::LimitExceeded,
                    src_dir + ": " + std::to_string(manifest.total_file_bytes()) +
                        " bytes of files, more than the " +
                        std::to_string(limits.max_unpacked_bytes) + " a package may hold");
    }
}

}  // namespace

Manifest scan_source(const std::string& src_dir, const ProgressFn& progress) {
    const fs::path root(src_dir);
    const std::string manifest_path = (root / "ferry.json").string();
    Manifest manifest =
        Manifest::parse_source(read_small_file(manifest_path, kSourceManifestMax), manifest_path);
    std::error_code ec;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name != "ferry.json" && name != "files" && name != "scripts") {
            throw source_error(
                it->path().string(),
                "not part of a package source (expected ferry.json, files/ and scripts/)");
        }
    }
    if (ec) throw Error(ErrorCode::Io, src_dir + ": cannot list directory: " + ec.message());

    std::vector<ManifestEntry> entries;
    std::vector<std::string> disk_paths;
    for (const char* top : {"files", "scripts"}) {
        const fs::path dir = root / top;
        struct stat st {};
        if (::lstat(dir.c_str(), &st) != 0) {
            if (errno == ENOENT && std::string(top) == "scripts") continue;
            throw_system_error(std::string("package source has no ") + top +
                               "/ directory: " + dir.string());
        }
        if (!S_ISDIR(st.st_mode)) throw source_error(dir.string(), "must be a directory");
        ManifestEntry e;
        e.path = top;
        e.type = EntryType::Directory;
        e.mode = 0755;
        entries.push_back(e);
        disk_paths.push_back(dir.string());
        scan_tree(dir, top, entries, disk_paths);
    }
    // Byte order of full paths, which is also the archive order.
    std::vector<std::size_t> order(entries.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return entries[a].path < entries[b].path; });
    std::vector<ManifestEntry> sorted;
    std::vector<std::string> sorted_disk;
    for (std::size_t i : order) {
        sorted.push_back(entries[i]);
        sorted_disk.push_back(disk_paths[i]);
    }
    Manifest limits_probe;
    limits_probe.files = sorted;
    check_reader_limits(limits_probe, src_dir);
    hash_files(sorted, sorted_disk, progress);
    for (const auto& e : sorted) {
        if (e.type == EntryType::File && e.path.rfind("scripts/", 0) == 0) {
            manifest.scripts.push_back(e.path.substr(8));
        }
    }
    for (auto& e : sorted) {
        if (e.path.rfind("scripts/", 0) == 0 && e.type == EntryType::File) e.mode = 0755;
    }
    manifest.files = std::move(sorted);
    manifest.validate_package(manifest_path);
    return manifest;
}

BuildResult build_package(const std::string& src_dir, const std::string& out_path,
                          const BuildOptions& options, const ProgressFn& progress) {
    if (options.compression_level < 1 || options.compression_level > 19) {
        throw Error(ErrorCode::InvalidInput, "compression level must be between 1 and 19");
    }
    BuildResult result;
    // Progress runs over twice the payload: once hashing, once writing.
    ProgressFn hashing_progress;
    if (progress) {
        hashing_progress = [progress](std::uint64_t done, std::uint64_t total) {
            progress(done, 2 * total);
        };
    }
    result.manifest = scan_source(src_dir, hashing_progress);
    std::string manifest_json = result.manifest.to_json();
    if (manifest_json.size() > ReadLimits().max_manifest_bytes) {
        throw Error(ErrorCode::LimitExceeded,
                    src_dir + ": the manifest would be " + std::to_string(manifest_json.size()) +
                        " bytes, more than readers accept; split the package");
    }

    AtomicFile file(out_path, 0644);
    OutputSink sink{&file, {}, Blake2b(64), 0, nullptr, 0};
    const bool non_ascii = std::any_of(
        result.manifest.files.begin(), result.manifest.files.end(), [](const ManifestEntry& e) {
            const auto high = [](char c) { return static_cast<unsigned char>(c) >= 0x80; };
            return std::any_of(e.path.begin(), e.path.end(), high) ||
                   std::any_of(e.target.begin(), e.target.end(), high);
        });
    PackageArchiveWriter writer(sink, options.compression_level, non_ascii);
    writer.set_sink(&sink);

    ManifestEntry manifest_entry;
    manifest_entry.path = "ferry.json";
    manifest_entry.mode = 0644;
    manifest_entry.size = manifest_json.size();
    writer.add_header(manifest_entry);
    writer.add_data(manifest_json.data(), manifest_json.size(), "ferry.json");
    std::string().swap(manifest_json);  // about 200 bytes per entry, not needed any more

    const fs::path root(src_dir);
    const std::uint64_t total = 2 * result.manifest.total_file_bytes();
    std::uint64_t done = total / 2;
    // Smaller than kIoBlock: zstd's output does not depend on how its input is cut, and the
    // copy buffer is resident for the whole build.
    std::vector<char> buffer(kCopyBlock);
    for (const auto& e : result.manifest.files) {
        writer.add_header(e);
        if (e.type == EntryType::File) {
            copy_file_into(writer, e, (root / e.path).string(), buffer, done, total, progress);
        }
    }
    writer.close();
    if (sink.error) std::rethrow_exception(sink.error);
    result.object_id = sink.object_hasher.finish_hex();
    sink.prehasher.finish(result.prehash.data());
    result.size = sink.size;
    file.commit();
    return result;
}

}  // namespace ferry
