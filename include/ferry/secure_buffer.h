// SecureBuffer: bytes for secrets, in libsodium's guarded memory (sodium_malloc: guard pages,
// locked against swapping) and wiped when released.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ferry {

class SecureBuffer {
  public:
    explicit SecureBuffer(std::size_t size);
    ~SecureBuffer();
    SecureBuffer(SecureBuffer&& other) noexcept;
    SecureBuffer& operator=(SecureBuffer&& other) noexcept;
    SecureBuffer(const SecureBuffer&) = delete;
    SecureBuffer& operator=(const SecureBuffer&) = delete;

    std::uint8_t* data() { return data_; }
    const std::uint8_t* data() const { return data_; }
    std::size_t size() const { return size_; }

  private:
    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

// Zeroes a string's whole buffer (its capacity, not just its size), for passwords and key text
// that had to pass through ordinary memory.
void wipe(std::string& text) noexcept;

}  // namespace ferry
