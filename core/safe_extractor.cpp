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
#include "unique_fd.h"

namespace ferry {
namespace {

// Opens a directory below `root` one component at a time, refusing to follow any symlink.
UniqueFd open_directory_below(int root, const std::string& relative) {
    UniqueFd current(::dup(root));
    if (!current) throw_system_error("cannot duplicate a directory descriptor");
    if (relative.empty()) return current;
    std::size_t start = 0;
    while (start <= relative.size()) {
        const auto slash = relative.find('/', start);
        const std::string part = relative.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        UniqueFd next(::openat(current.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) throw_system_error("cannot open directory \"" + relative + "\" in the staging area");
        current = std::move(next);
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return current;
}

// The staging directory: created empty, removed on destruction unless released.
class StagingDirectory {
public:
    explicit StagingDirectory(const std::string& target) {
        std::string pattern = target + ".staging-XXXXXX";
        std::vector<char> buffer(pattern.begin(), pattern.end());
        buffer.push_back('\0');
        if (::mkdtemp(buffer.data()) == nullptr) throw_system_error("cannot create a staging directory for " + target);
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

class Extraction {
public:
    Extraction(PackageReader& reader, StagingDirectory& staging) : reader_(reader), staging_(staging) {}

    void entry(const ManifestEntry& e) {
        const int parent = parent_fd(parent_of(e.path));
        const std::string name = leaf_of(e.path);
        switch (e.type) {
            case EntryType::Directory:
                if (::mkdirat(parent, name.c_str(), 0700) != 0) throw_system_error("cannot create \"" + e.path + "\"");
                if (::fchmodat(parent, name.c_str(), e.mode, 0) != 0) throw_system_error("cannot chmod \"" + e.path + "\"");
                break;
            case EntryType::Symlink:
                if (::symlinkat(e.target.c_str(), parent, name.c_str()) != 0) {
                    throw_system_error("cannot create link \"" + e.path + "\"");
                }
                break;
            case EntryType::File:
                file(parent, name, e);
                break;
        }
    }

    std::uint64_t files() const { return files_; }

private:
    // Entries arrive sorted, so consecutive entries mostly share a parent: keep one open.
    int parent_fd(const std::string& parent) {
        if (!cached_ || cached_path_ != parent) {
            cached_ = open_directory_below(staging_.fd(), parent);
            cached_path_ = parent;
        }
        return cached_.get();
    }

    void file(int parent, const std::string& name, const ManifestEntry& e) {
        // O_EXCL: a second entry for the same path can never replace the first.
        UniqueFd fd(::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd) throw_system_error("cannot create \"" + e.path + "\"");
        const void* data = nullptr;
        std::size_t size = 0;
        const std::string what = "\"" + e.path + "\"";
        while (reader_.read_block(data, size)) write_all(fd.get(), data, size, what);
        if (::fchmod(fd.get(), e.mode) != 0) throw_system_error("cannot chmod \"" + e.path + "\"");
        ++files_;
    }

    PackageReader& reader_;
    StagingDirectory& staging_;
    UniqueFd cached_;
    std::string cached_path_;
    std::uint64_t files_ = 0;
};

}  // namespace

ExtractResult extract_package(const std::string& package_path, const std::string& target,
                              const ReadLimits& limits, const ProgressFn& progress,
                              const std::optional<std::string>& expected_object_id) {
    struct stat st {};
    if (::lstat(target.c_str(), &st) == 0) {
        throw Error(ErrorCode::AlreadyExists, target + ": the extraction target already exists");
    }
    PackageReader reader(package_path, limits, expected_object_id);
    StagingDirectory staging(target);
    Extraction extraction(reader, staging);
    const std::uint64_t total = reader.manifest().total_file_bytes();
    while (const ManifestEntry* e = reader.next()) {
        extraction.entry(*e);
        if (progress) progress(reader.bytes_read(), total);
    }
    // Durable before visible: one syncfs for the whole tree is far cheaper than a fsync per file.
    if (::syncfs(staging.fd()) != 0) throw_system_error("cannot sync " + staging.path());
    if (::renameat2(AT_FDCWD, staging.path().c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) != 0) {
        throw_system_error("cannot move the extracted package to " + target);
    }
    staging.release();
    const std::string parent = parent_of(target).empty() ? "." : parent_of(target);
    if (UniqueFd dir{::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)}) ::fsync(dir.get());
    ExtractResult result;
    result.manifest = reader.manifest();
    result.files = extraction.files();
    result.bytes = reader.bytes_read();
    return result;
}

}  // namespace ferry
