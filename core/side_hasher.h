// Internal: SideHasher runs a BLAKE2b pass on a thread of its own over a small ring of blocks
// that the calling thread fills, so that hashing a stream costs the caller only the time to
// read it. Used where one pass over a file needs two digests (package signatures) and where a
// reader must hash the raw bytes it consumes (PackageReader with an expected object id).
//
// Protocol: next_block() returns a free block to read into (waiting while every block is
// still queued), publish(n) hands its first n bytes to the hashing thread, finish() waits for
// the last block and stops the thread. A block handed out stays untouched by the caller's next
// next_block() call, so it may be lent onwards until then (libarchive's read callback contract).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "ferry/hash.h"

namespace ferry {

class SideHasher {
  public:
    SideHasher(Blake2b& hasher, std::size_t slots, std::size_t block_size);
    SideHasher(const SideHasher&) = delete;
    SideHasher& operator=(const SideHasher&) = delete;
    ~SideHasher() { finish(); }

    std::vector<char>& next_block();
    void publish(std::size_t size);
    // Waits until every published block is hashed and stops the thread. Idempotent.
    void finish();

  private:
    void run();

    Blake2b& hasher_;
    std::vector<std::vector<char>> buffers_;
    std::vector<std::size_t> sizes_;
    std::uint64_t filled_ = 0;  // blocks published
    std::uint64_t hashed_ = 0;  // blocks the hashing thread is done with
    bool closing_ = false;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::thread thread_;
};

}  // namespace ferry
