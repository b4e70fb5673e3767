// BLAKE2b hashing (libsodium crypto_generichash, unkeyed).
//
// Object ids are the lowercase hex of a 32-byte BLAKE2b digest: the value `b2sum -l 256` prints.
// minisign's prehashed signatures use the 64-byte digest of the same function.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <istream>
#include <string>

namespace ferry {

// A streaming BLAKE2b hasher with a fixed digest length (1..64 bytes). Not thread-safe;
// cheap to create. finish() may be called once.
class Blake2b {
  public:
    explicit Blake2b(std::size_t digest_size);

    void update(const void* data, std::size_t size);
    // The digest; the hasher must not be updated afterwards.
    std::string finish_hex();
    void finish(std::uint8_t* out);

    std::size_t digest_size() const { return digest_size_; }

  private:
    crypto_generichash_state state_;
    std::size_t digest_size_;
    bool finished_ = false;
};

// BLAKE2b-256, the hash that names objects.
class ObjectHasher : public Blake2b {
  public:
    ObjectHasher() : Blake2b(32) {}
};

// Hex object id of a whole file; throws ferry::Error naming the path if it cannot be read.
std::string hash_file(const std::string& path);

// Hex object id of everything left in the stream.
std::string hash_stream(std::istream& in);

// Hex object id of a byte string.
std::string hash_bytes(const void* data, std::size_t size);

}  // namespace ferry
