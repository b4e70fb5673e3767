#include "ferry/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fd_io.h"
#include "ferry/error.h"
#include "unique_fd.h"

namespace ferry {
namespace {

std::string parent_directory(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

AtomicFile::AtomicFile(std::string destination, mode_t mode)
    : destination_(std::move(destination)) {
    const std::string dir = parent_directory(destination_);
    std::string pattern = dir + "/." + base_name(destination_) + ".tmp-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    fd_ = ::mkostemp(buffer.data(), O_CLOEXEC);
    if (fd_ < 0) throw_system_error("cannot create a temporary file for " + destination_);
    temp_path_ = buffer.data();
    // mkostemp always creates 0600; fchmod gives the caller's mode exactly (umask plays no part).
    if (::fchmod(fd_, mode) != 0) {
        discard();
        throw_system_error("cannot set the mode of " + temp_path_);
    }
}

AtomicFile::~AtomicFile() {
    if (!done_) discard();
}

void AtomicFile::write(const void* data, std::size_t size) {
    write_all(fd_, data, size, temp_path_);
    bytes_written_ += size;
}

void AtomicFile::flush_and_close() {
    if (::fsync(fd_) != 0) throw_system_error("cannot fsync " + temp_path_);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw_system_error("cannot close " + temp_path_);
}

void AtomicFile::commit() {
    flush_and_close();
    if (::rename(temp_path_.c_str(), destination_.c_str()) != 0) {
        throw_system_error("cannot rename " + temp_path_ + " to " + destination_);
    }
    done_ = true;
    fsync_directory(parent_directory(destination_));
}

bool AtomicFile::commit_if_absent() {
    flush_and_close();
    // link() fails with EEXIST instead of replacing, which rename() would do.
    if (::link(temp_path_.c_str(), destination_.c_str()) != 0) {
        if (errno == EEXIST) {
            discard();
            done_ = true;
            return false;
        }
        throw_system_error("cannot link " + temp_path_ + " to " + destination_);
    }
    ::unlink(temp_path_.c_str());
    done_ = true;
    fsync_directory(parent_directory(destination_));
    return true;
}

void AtomicFile::discard() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void write_file_atomically(const std::string& path, const std::string& content, mode_t mode) {
    AtomicFile file(path, mode);
    file.write(content);
    file.commit();
}

std::string read_small_file(const std::string& path, std::size_t max_size) {
    // O_NONBLOCK so that a FIFO given as a key or signature file is refused, not waited on.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd) throw_system_error("cannot open " + path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_system_error("cannot stat " + path);
    if (!S_ISREG(st.st_mode)) throw Error(ErrorCode::InvalidInput, path + ": not a regular file");
    if (static_cast<std::size_t>(st.st_size) > max_size) {
        throw Error(ErrorCode::InvalidInput,
                    path + ": file is larger than " + std::to_string(max_size) + " bytes");
    }
    std::string content;
    char buffer[65536];
    while (const std::size_t n = read_some(fd.get(), buffer, sizeof buffer, path)) {
        content.append(buffer, n);
        if (content.size() > max_size) {
            throw Error(ErrorCode::InvalidInput,
                        path + ": file is larger than " + std::to_string(max_size) + " bytes");
        }
    }
    return content;
}

void fsync_directory(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_system_error("cannot open directory " + dir);
    if (::fsync(fd.get()) != 0 && errno != EINVAL) throw_system_error("cannot fsync " + dir);
}

}  // namespace ferry
