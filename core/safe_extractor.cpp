#include "ferry/safe_extractor.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include "archive_path.h"
#include "fd_io.h"
#include "ferry/error.h"
#include "staging_writer.h"
#include "unique_fd.h"

namespace ferry {
namespace {

// The staging directory: created empty, removed on destruction unless released.
class StagingDirectory {
  public:
    explicit StagingDirectory(const std::string& target) {
        std::string pattern = target + ".staging-XXXXXX";
        std::vector<char> buffer(pattern.begin(), pattern.end());
        buffer.push_back('\0');
        if (::mkdtemp(buffer.data()) == nullptr)
            throw_system_error("cannot create a staging directory for " + target);
        path_ = buffer.data();
        fd_ = UniqueFd(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd_) {
            remove();
            throw_system_error("cannot open the staging directory " + path_);
        }
        if (::fchmod(fd_.get(), 0755) != 0) {
            remove();
            throw_system_error("cannot chmod the staging directory " + path_);
        }
    }
    ~StagingDirectory() {
        if (!released_) remove();
    }
    int fd() const { return fd_.get(); }
    const std::string& path() const { return path_; }
    void release() { released_ = true; }

  private:
    void remove() noexcept {
        // remove_all never follows symlinks: it deletes the links themselves.
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string path_;
    UniqueFd fd_;
    bool released_ = false;
};

// Feeds each checked entry to the staging writer.
void stage_entry(PackageReader& reader, StagingWriter& writer, const ManifestEntry& e) {
    switch (e.type) {
        case EntryType::Directory:
            writer.make_directory(e.path, e.mode);
            break;
        case EntryType::Symlink:
            writer.make_symlink(e.path, e.target);
            break;
        case EntryType::File: {
            writer.begin_file(e.path, e.mode);
            const void* data = nullptr;
            std::size_t size = 0;
            while (reader.read_block(data, size)) writer.write(data, size);
            writer.end_file();
            break;
        }
    }
}

}  // namespace

ExtractResult extract_package(const std::string& package_path, const std::string& target,
                              const ReadLimits& limits, const ProgressFn& progress,
                              const std::optional<std::string>& expected_object_id) {
    struct stat st {};
    if (::lstat(target.c_str(), &st) == 0) {
        throw Error(ErrorCode::AlreadyExists, target + ": the extraction target already exists");
    }
    // With a verified object id every byte is checked as a whole, so the per-file hashes need
    // not be recomputed; without one they are the only check of the content.
    const ContentCheck check =
        expected_object_id ? ContentCheck::ObjectIdOnly : ContentCheck::EveryFileHash;
    PackageReader reader(package_path, limits, expected_object_id, check);
    StagingDirectory staging(target);
    std::uint64_t files = 0;
    {
        StagingWriter writer(staging.fd());
        const std::uint64_t total = reader.manifest().total_file_bytes();
        while (const ManifestEntry* e = reader.next()) {
            stage_entry(reader, writer, *e);
            if (e->type == EntryType::File) ++files;
            if (progress) progress(reader.bytes_read(), total);
        }
        writer.finish();
    }
    // Durable before visible: one syncfs for the whole tree is far cheaper than a fsync per file.
    if (::syncfs(staging.fd()) != 0) throw_system_error("cannot sync " + staging.path());
    if (::renameat2(AT_FDCWD, staging.path().c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) !=
        0) {
        throw_system_error("cannot move the extracted package to " + target);
    }
    staging.release();
    const std::string parent = parent_of(target).empty() ? "." : parent_of(target);
    if (UniqueFd dir{::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)})
        ::fsync(dir.get());
    ExtractResult result;
    result.manifest = reader.manifest();
    result.files = files;
    result.bytes = reader.bytes_read();
    return result;
}

}  // namespace ferry
