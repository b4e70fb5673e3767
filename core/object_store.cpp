#include "ferry/object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <vector>

#include "fd_io.h"
#include "ferry/atomic_file.h"
#include "ferry/encoding.h"
#include "ferry/error.h"
#include "unique_fd.h"

namespace ferry {
namespace {

// Creates `path` if missing; a new directory is made durable in its parent before use, so
// an object linked into it cannot vanish with the directory after a crash.
void make_directory(const std::string& path, const std::string& parent) {
    if (::mkdir(path.c_str(), 0755) == 0) {
        fsync_directory(parent);
    } else if (errno != EEXIST) {
        throw_system_error("cannot create directory " + path);
    }
}

// Temporary files of puts that died with their process (kill -9, power loss). Only old ones are
// removed: a younger one may belong to a put still running in another process.
void remove_stale_temporaries(const std::string& tmp_dir) {
    constexpr time_t kStaleAfterSeconds = 24 * 3600;
    DIR* d = ::opendir(tmp_dir.c_str());
    if (d == nullptr) return;
    const time_t now = ::time(nullptr);
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.rfind("put-", 0) != 0) continue;
        struct stat st {};
        const std::string path = tmp_dir + "/" + name;
        if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            now - st.st_mtime > kStaleAfterSeconds) {
            ::unlink(path.c_str());
        }
    }
    ::closedir(d);
}

void require_object_id(const std::string& id) {
    if (!is_object_id(id)) {
        throw Error(ErrorCode::InvalidInput,
                    "\"" + id.substr(0, 80) + "\" is not an object id (64 lowercase hex digits)");
    }
}

}  // namespace

// ---- ObjectWriter ----

ObjectWriter::ObjectWriter(const std::string& tmp_dir, std::string objects_dir,
                           std::optional<std::string> expected_id,
                           std::optional<std::uint64_t> max_size)
    : objects_dir_(std::move(objects_dir)),
      expected_id_(std::move(expected_id)),
      max_size_(max_size) {
    if (expected_id_) require_object_id(*expected_id_);
    std::string pattern = tmp_dir + "/put-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    fd_ = ::mkostemp(buffer.data(), O_CLOEXEC);
    if (fd_ < 0) throw_system_error("cannot create a temporary object in " + tmp_dir);
    temp_path_ = buffer.data();
}

ObjectWriter::~ObjectWriter() {
    if (!done_) discard();
}

void ObjectWriter::write(const void* data, std::size_t size) {
    if (done_) throw Error(ErrorCode::Internal, "write to a finished object writer");
    if (max_size_ && size_ + size > *max_size_) {
        discard();
        done_ = true;
        throw Error(ErrorCode::LimitExceeded,
                    "object is larger than the limit of " + std::to_string(*max_size_) + " bytes");
    }
    hasher_.update(data, size);
    write_all(fd_, data, size, temp_path_);
    size_ += size;
}

PutResult ObjectWriter::commit() {
    if (done_) throw Error(ErrorCode::Internal, "object writer committed twice");
    PutResult result;
    result.id = hasher_.finish_hex();
    result.size = size_;
    if (expected_id_ && *expected_id_ != result.id) {
        discard();
        done_ = true;
        throw Error(ErrorCode::VerificationFailed,
                    "object content does not match its id: expected " + *expected_id_ + ", got " +
                        result.id);
    }
    if (::fchmod(fd_, 0444) != 0) throw_system_error("cannot chmod " + temp_path_);
    if (::fsync(fd_) != 0) throw_system_error("cannot fsync " + temp_path_);
    ::close(fd_);
    fd_ = -1;

    const std::string fanout = objects_dir_ + "/" + result.id.substr(0, 2);
    make_directory(fanout, objects_dir_);
    const std::string final_path = fanout + "/" + result.id;
    // link() never replaces: an object that is already present stays exactly as it was.
    if (::link(temp_path_.c_str(), final_path.c_str()) == 0) {
        result.created = true;
        fsync_directory(fanout);
    } else if (errno != EEXIST) {
        throw_system_error("cannot store object " + result.id);
    }
    discard();
    done_ = true;
    return result;
}

void ObjectWriter::discard() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
    temp_path_.clear();
}

// ---- ObjectStore ----

ObjectStore::ObjectStore(std::string root)
    : root_(std::move(root)), objects_dir_(root_ + "/objects"), tmp_dir_(objects_dir_ + "/tmp") {
    const std::string root_parent =
        root_.find('/') == std::string::npos ? "." : root_.substr(0, root_.find_last_of('/'));
    make_directory(root_, root_parent.empty() ? "/" : root_parent);
    make_directory(objects_dir_, root_);
    make_directory(tmp_dir_, objects_dir_);
    remove_stale_temporaries(tmp_dir_);
}

std::unique_ptr<ObjectWriter> ObjectStore::begin_put(std::optional<std::string> expected_id,
                                                     std::optional<std::uint64_t> max_size) const {
    return std::make_unique<ObjectWriter>(tmp_dir_, objects_dir_, std::move(expected_id), max_size);
}

PutResult ObjectStore::put(std::istream& in, std::optional<std::string> expected_id,
                           std::optional<std::uint64_t> max_size) const {
    auto writer = begin_put(std::move(expected_id), max_size);
    std::vector<char> buffer(1 << 16);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        if (in.gcount() > 0) writer->write(buffer.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) throw Error(ErrorCode::Io, "read error while storing an object");
    return writer->commit();
}

PutResult ObjectStore::put_file(const std::string& path,
                                std::optional<std::string> expected_id) const {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::NotFound, "cannot open " + path);
    try {
        return put(in, std::move(expected_id));
    } catch (const Error& e) {
        throw e.with_context(path);
    }
}

std::string ObjectStore::object_path(const std::string& id) const {
    require_object_id(id);
    return objects_dir_ + "/" + id.substr(0, 2) + "/" + id;
}

bool ObjectStore::exists(const std::string& id) const {
    struct stat st {};
    return ::stat(object_path(id).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::uint64_t ObjectStore::size(const std::string& id) const {
    struct stat st {};
    if (::stat(object_path(id).c_str(), &st) != 0) {
        throw Error(ErrorCode::NotFound, "object " + id + " is not in the store");
    }
    return static_cast<std::uint64_t>(st.st_size);
}

std::string ObjectStore::path(const std::string& id) const {
    if (!exists(id)) throw Error(ErrorCode::NotFound, "object " + id + " is not in the store");
    return object_path(id);
}

std::unique_ptr<std::istream> ObjectStore::get(const std::string& id) const {
    auto in = std::make_unique<std::ifstream>(object_path(id), std::ios::binary);
    if (!*in) throw Error(ErrorCode::NotFound, "object " + id + " is not in the store");
    return in;
}

void ObjectStore::verify(const std::string& id) const {
    const std::string actual = hash_file(path(id));
    if (actual != id) {
        throw Error(ErrorCode::VerificationFailed,
                    "object " + id + " is corrupt: its content hashes to " + actual);
    }
}

std::int64_t ObjectStore::age_seconds(const std::string& id) const {
    struct stat st {};
    if (::stat(object_path(id).c_str(), &st) != 0)
        throw Error(ErrorCode::NotFound, "object " + id + " is not in the store");
    return static_cast<std::int64_t>(::time(nullptr)) - static_cast<std::int64_t>(st.st_mtime);
}

bool ObjectStore::remove(const std::string& id) const {
    const std::string path = object_path(id);
    if (::unlink(path.c_str()) != 0) {
        if (errno == ENOENT) return false;
        throw_system_error("cannot remove " + path);
    }
    fsync_directory(path.substr(0, path.rfind('/')));
    return true;
}

std::vector<std::string> ObjectStore::list() const {
    std::vector<std::string> ids;
    DIR* top = ::opendir(objects_dir_.c_str());
    if (top == nullptr) throw_system_error("cannot list " + objects_dir_);
    std::vector<std::string> fanouts;
    while (const dirent* e = ::readdir(top)) {
        const std::string name = e->d_name;
        if (name.size() == 2 && is_object_id(name + std::string(62, '0'))) fanouts.push_back(name);
    }
    ::closedir(top);
    for (const auto& fanout : fanouts) {
        const std::string dir = objects_dir_ + "/" + fanout;
        DIR* d = ::opendir(dir.c_str());
        if (d == nullptr) throw_system_error("cannot list " + dir);
        while (const dirent* e = ::readdir(d)) {
            const std::string name = e->d_name;
            if (is_object_id(name) && name.compare(0, 2, fanout) == 0) ids.push_back(name);
        }
        ::closedir(d);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace ferry
