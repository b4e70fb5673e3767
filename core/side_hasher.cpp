#include "side_hasher.h"

namespace ferry {

SideHasher::SideHasher(Blake2b& hasher, std::size_t slots, std::size_t block_size)
    : hasher_(hasher), buffers_(slots, std::vector<char>(block_size)), sizes_(slots, 0) {
    thread_ = std::thread([this] { run(); });
}

std::vector<char>& SideHasher::next_block() {
    std::unique_lock<std::mutex> lock(mutex_);
    // One block fewer than the ring holds: the block handed out last must stay untouched.
    changed_.wait(lock, [this] { return filled_ - hashed_ < buffers_.size() - 1; });
    return buffers_[filled_ % buffers_.size()];
}

void SideHasher::publish(std::size_t size) {
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        sizes_[filled_ % buffers_.size()] = size;
        ++filled_;
    }
    changed_.notify_all();
}

void SideHasher::finish() {
    if (!thread_.joinable()) return;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        closing_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

void SideHasher::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        changed_.wait(lock, [this] { return hashed_ < filled_ || closing_; });
        if (hashed_ == filled_) return;  // closing, and nothing left
        const std::size_t slot = hashed_ % buffers_.size();
        lock.unlock();
        hasher_.update(buffers_[slot].data(), sizes_[slot]);
        lock.lock();
        ++hashed_;
        changed_.notify_all();
    }
}

}  // namespace ferry
