// AtomicFile: write a file so that readers see either nothing or the whole thing.
//
// The bytes go to a temporary file in the destination's directory; commit() fsyncs it, renames
// it onto the destination and fsyncs the directory. If the object is destroyed without a
// successful commit() (an exception, a verification failure), the temporary file is removed
// and the destination is untouched.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace ferry {

class AtomicFile {
  public:
    // Creates the temporary file with `mode` (before umask). Throws ferry::Error naming the
    // destination if its directory cannot be written.
    explicit AtomicFile(std::string destination, mode_t mode = 0644);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(const void* data, std::size_t size);
    void write(const std::string& text) { write(text.data(), text.size()); }

    // Makes the file visible under its destination name, replacing any existing file.
    void commit();
    // Makes the file visible only if nothing exists at the destination yet. Returns false (and
    // discards the temporary file) when something does; never overwrites.
    bool commit_if_absent();

    const std::string& destination() const { return destination_; }
    std::size_t bytes_written() const { return bytes_written_; }
    int fd() const { return fd_; }

  private:
    void flush_and_close();
    void discard() noexcept;

    std::string destination_;
    std::string temp_path_;
    int fd_ = -1;
    std::size_t bytes_written_ = 0;
    bool done_ = false;
};

// Writes `content` to `path` atomically (temp file, fsync, rename).
void write_file_atomically(const std::string& path, const std::string& content, mode_t mode = 0644);

// Reads a whole regular file, refusing anything else (without blocking on a FIFO) and files
// larger than `max_size` bytes with Error(InvalidInput). Errors name the path.
std::string read_small_file(const std::string& path, std::size_t max_size);

// fsyncs a directory so that a rename inside it is durable.
void fsync_directory(const std::string& dir);

}  // namespace ferry
