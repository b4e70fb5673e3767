#include "ferry/secure_buffer.h"

#include <sodium.h>

#include <utility>

#include "ferry/error.h"
#include "sodium_init.h"

namespace ferry {

SecureBuffer::SecureBuffer(std::size_t size) : size_(size) {
    ensure_sodium();
    data_ = static_cast<std::uint8_t*>(sodium_malloc(size));
    if (data_ == nullptr) throw Error(ErrorCode::Internal, "cannot allocate secure memory");
    sodium_memzero(data_, size);
}

SecureBuffer::~SecureBuffer() {
    if (data_ != nullptr) sodium_free(data_);  // sodium_free wipes before releasing
}

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
    if (this != &other) {
        if (data_ != nullptr) sodium_free(data_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

void wipe(std::string& text) noexcept {
    if (text.capacity() > 0) sodium_memzero(text.data(), text.capacity());
    text.clear();
}

}  // namespace ferry
