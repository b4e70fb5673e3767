#include "staging_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "archive_path.h"
#include "fd_io.h"
#include "ferry/error.h"

namespace ferry {
namespace {

constexpr std::size_t kBlockSize = 1 << 20;
constexpr std::size_t kMaxBlocks = 8;  // at most 8 MiB of content in flight

// Opens a directory below `root` one component at a time, refusing to follow any symlink.
UniqueFd open_directory_below(int root, const std::string& relative) {
    UniqueFd current(::dup(root));
    if (!current) throw_system_error("cannot duplicate a directory descriptor");
    if (relative.empty()) return current;
    for (const auto& part : split_path(relative)) {
        UniqueFd next(
            ::openat(current.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next)
            throw_system_error("cannot open directory \"" + relative + "\" in the staging area");
        current = std::move(next);
    }
    return current;
}

}  // namespace

StagingWriter::StagingWriter(int staging_root_fd)
    : root_fd_(staging_root_fd), thread_([this] { run(); }) {}

StagingWriter::~StagingWriter() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        queue_.clear();
    }
    work_ready_.notify_all();
    space_ready_.notify_all();
    thread_.join();
}

void StagingWriter::make_directory(const std::string& path, std::uint32_t mode) {
    push(Op{Kind::Directory, path, mode, {}, nullptr});
}

void StagingWriter::make_symlink(const std::string& path, const std::string& target) {
    push(Op{Kind::Symlink, path, 0, target, nullptr});
}

void StagingWriter::begin_file(const std::string& path, std::uint32_t mode) {
    push(Op{Kind::BeginFile, path, mode, {}, nullptr});
}

void StagingWriter::write(const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        if (!filling_) filling_ = take_free_block();
        const std::size_t n = std::min(size, filling_->bytes.size() - filling_->used);
        std::memcpy(filling_->bytes.data() + filling_->used, p, n);
        filling_->used += n;
        p += n;
        size -= n;
        if (filling_->used == filling_->bytes.size()) flush_block();
    }
}

void StagingWriter::end_file() {
    flush_block();
    push(Op{Kind::EndFile, {}, 0, {}, nullptr});
}

void StagingWriter::finish() {
    std::unique_lock<std::mutex> lock(mutex_);
    space_ready_.wait(lock, [this] { return (queue_.empty() && !busy_) || failure_; });
    if (failure_) std::rethrow_exception(failure_);
}

void StagingWriter::flush_block() {
    if (!filling_ || filling_->used == 0) return;
    push(Op{Kind::Data, {}, 0, {}, std::move(filling_)});
}

std::unique_ptr<StagingWriter::Block> StagingWriter::take_free_block() {
    std::unique_lock<std::mutex> lock(mutex_);
    space_ready_.wait(
        lock, [this] { return !free_blocks_.empty() || blocks_created_ < kMaxBlocks || failure_; });
    if (failure_) std::rethrow_exception(failure_);
    if (!free_blocks_.empty()) {
        auto block = std::move(free_blocks_.back());
        free_blocks_.pop_back();
        block->used = 0;
        return block;
    }
    ++blocks_created_;
    auto block = std::make_unique<Block>();
    block->bytes.resize(kBlockSize);
    return block;
}

void StagingWriter::push(Op op) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (failure_) std::rethrow_exception(failure_);
        queue_.push_back(std::move(op));
    }
    work_ready_.notify_one();
}

void StagingWriter::run() {
    for (;;) {
        Op op;
        bool skip = false;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            work_ready_.wait(lock, [this] { return !queue_.empty() || stopping_; });
            if (stopping_) return;
            op = std::move(queue_.front());
            queue_.pop_front();
            busy_ = true;
            skip = failure_ != nullptr;  // after a failure, only hand blocks back
        }
        std::exception_ptr error;
        if (!skip) {
            try {
                execute(op);
            } catch (...) {
                error = std::current_exception();
            }
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (error && !failure_) failure_ = error;
            if (op.block) free_blocks_.push_back(std::move(op.block));
            busy_ = false;
        }
        space_ready_.notify_all();
    }
}

int StagingWriter::parent_fd(const std::string& parent) {
    // Entries arrive sorted, so consecutive entries mostly share a parent: keep one open.
    if (!cached_parent_ || cached_parent_path_ != parent) {
        cached_parent_ = open_directory_below(root_fd_, parent);
        cached_parent_path_ = parent;
    }
    return cached_parent_.get();
}

void StagingWriter::execute(Op& op) {
    switch (op.kind) {
        case Kind::Directory: {
            const int parent = parent_fd(parent_of(op.path));
            const std::string name = leaf_of(op.path);
            if (::mkdirat(parent, name.c_str(), 0700) != 0)
                throw_system_error("cannot create \"" + op.path + "\"");
            if (::fchmodat(parent, name.c_str(), op.mode, 0) != 0)
                throw_system_error("cannot chmod \"" + op.path + "\"");
            break;
        }
        case Kind::Symlink: {
            const int parent = parent_fd(parent_of(op.path));
            if (::symlinkat(op.target.c_str(), parent, leaf_of(op.path).c_str()) != 0) {
                throw_system_error("cannot create link \"" + op.path + "\"");
            }
            break;
        }
        case Kind::BeginFile: {
            const int parent = parent_fd(parent_of(op.path));
            // O_EXCL: a second entry for the same path can never replace the first.
            file_ = UniqueFd(::openat(parent, leaf_of(op.path).c_str(),
                                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!file_) throw_system_error("cannot create \"" + op.path + "\"");
            file_path_ = "\"" + op.path + "\"";
            file_mode_ = op.mode;
            break;
        }
        case Kind::Data:
            write_all(file_.get(), op.block->bytes.data(), op.block->used, file_path_);
            break;
        case Kind::EndFile:
            if (::fchmod(file_.get(), file_mode_) != 0)
                throw_system_error("cannot chmod " + file_path_);
            // Start writing the file back now, so that the one sync before the staging directory
            // is renamed into place finds little left to wait for. A hint: failure is harmless.
            ::sync_file_range(file_.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
            file_.reset();
            break;
    }
}

}  // namespace ferry
