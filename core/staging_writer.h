// Internal: StagingWriter performs the filesystem side of an extraction — directories, links,
// files and their content — on a thread of its own, strictly in the order it is given, so
// that decompression and checking (on the caller's thread) overlap with the disk writes.
//
// Every path is relative to the staging root and opened one component at a time with
// O_NOFOLLOW, files with O_CREAT|O_EXCL: nothing is followed, nothing existing is replaced.
// Content is copied into a small pool of blocks (bounded memory; the caller waits when all are
// in flight). The first failure on the writer thread is rethrown to the caller by the next
// call or by finish(); later work is then skipped.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "unique_fd.h"

namespace ferry {

class StagingWriter {
  public:
    explicit StagingWriter(int staging_root_fd);
    ~StagingWriter();  // stops the thread; work not yet done is dropped
    StagingWriter(const StagingWriter&) = delete;
    StagingWriter& operator=(const StagingWriter&) = delete;

    void make_directory(const std::string& path, std::uint32_t mode);
    void make_symlink(const std::string& path, const std::string& target);
    void begin_file(const std::string& path, std::uint32_t mode);
    void write(const void* data, std::size_t size);
    void end_file();
    // Waits until everything queued is on disk (not yet synced); rethrows a writer failure.
    void finish();

  private:
    enum class Kind { Directory, Symlink, BeginFile, Data, EndFile };
    struct Block {
        std::vector<char> bytes;
        std::size_t used = 0;
    };
    struct Op {
        Kind kind;
        std::string path;
        std::uint32_t mode = 0;
        std::string target;
        std::unique_ptr<Block> block;
    };

    void push(Op op);
    void flush_block();
    std::unique_ptr<Block> take_free_block();
    void rethrow_if_failed();
    void run();
    void execute(Op& op);
    int parent_fd(const std::string& parent);

    int root_fd_;
    std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable space_ready_;
    std::deque<Op> queue_;
    std::vector<std::unique_ptr<Block>> free_blocks_;
    std::size_t blocks_created_ = 0;
    bool busy_ = false;
    bool stopping_ = false;
    std::exception_ptr failure_;

    // Caller's side: the block being filled.
    std::unique_ptr<Block> filling_;

    // Writer's side.
    UniqueFd cached_parent_;
    std::string cached_parent_path_;
    UniqueFd file_;
    std::string file_path_;
    std::uint32_t file_mode_ = 0;

    std::thread thread_;
};

}  // namespace ferry
