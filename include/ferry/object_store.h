// ObjectStore: the content-addressed store behind the DSL and every distribution point.
//
// Objects live at ROOT/objects/ab/<64 hex>, named by the BLAKE2b-256 of their bytes, read-only
// (0444) once stored. Writes go to ROOT/objects/tmp/ and become visible only after the id has
// been checked, the file fsynced and hard-linked into place; an existing object is never
// overwritten (putting it again is a no-op). Any failure removes the temporary file.
//
// Thread-safety: concurrent puts and reads from several threads or processes are safe; the
// filesystem's link() decides which of two identical puts lands first.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/hash.h"

namespace ferry {

struct PutResult {
    std::string id;
    std::uint64_t size = 0;
    bool created = false;  // false when the object was already present
};

// A put in progress: feed it bytes, then commit(). Destroying it uncommitted discards it.
class ObjectWriter {
  public:
    ObjectWriter(const std::string& tmp_dir, std::string objects_dir,
                 std::optional<std::string> expected_id, std::optional<std::uint64_t> max_size);
    ~ObjectWriter();
    ObjectWriter(const ObjectWriter&) = delete;
    ObjectWriter& operator=(const ObjectWriter&) = delete;

    // Throws Error(LimitExceeded) once more than max_size bytes arrive.
    void write(const void* data, std::size_t size);
    // Checks the id (Error(VerificationFailed) naming both ids on mismatch, nothing stored),
    // fsyncs and links the object into place.
    PutResult commit();

    std::uint64_t bytes_written() const { return size_; }

  private:
    void discard() noexcept;

    std::string objects_dir_;
    std::optional<std::string> expected_id_;
    std::optional<std::uint64_t> max_size_;
    std::string temp_path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    ObjectHasher hasher_;
    bool done_ = false;
};

class ObjectStore {
  public:
    // Opens (creating if needed) the store under `root`, removing temporary files that puts
    // killed more than a day ago left behind.
    explicit ObjectStore(std::string root);

    // Starts a streamed put; see ObjectWriter.
    std::unique_ptr<ObjectWriter> begin_put(
        std::optional<std::string> expected_id = std::nullopt,
        std::optional<std::uint64_t> max_size = std::nullopt) const;
    // Stores everything left in `in`.
    PutResult put(std::istream& in, std::optional<std::string> expected_id = std::nullopt,
                  std::optional<std::uint64_t> max_size = std::nullopt) const;
    PutResult put_file(const std::string& path,
                       std::optional<std::string> expected_id = std::nullopt) const;

    bool exists(const std::string& id) const;
    // Size in bytes; Error(NotFound) when absent.
    std::uint64_t size(const std::string& id) const;
    // The object's path, for sendfile-style serving. Error(NotFound) when absent.
    std::string path(const std::string& id) const;
    // An input stream over the object; Error(NotFound) when absent.
    std::unique_ptr<std::istream> get(const std::string& id) const;
    // Rehashes the object; Error(VerificationFailed) if its bytes no longer match its name.
    void verify(const std::string& id) const;
    // Ids of every object, sorted.
    std::vector<std::string> list() const;
    // Seconds since the object was stored (its mtime); Error(NotFound) when absent.
    std::int64_t age_seconds(const std::string& id) const;
    // Deletes the object durably; false when it was not there. Only garbage collection calls
    // this, after checking that nothing references the object.
    bool remove(const std::string& id) const;

    const std::string& root() const { return root_; }

  private:
    std::string object_path(const std::string& id) const;  // validates the id

    std::string root_;
    std::string objects_dir_;
    std::string tmp_dir_;
};

}  // namespace ferry
