#include "ferry/hash.h"

#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "fd_io.h"
#include "ferry/encoding.h"
#include "ferry/error.h"
#include "sodium_init.h"
#include "unique_fd.h"

namespace ferry {

Blake2b::Blake2b(std::size_t digest_size) : digest_size_(digest_size) {
    ensure_sodium();
    if (digest_size < crypto_generichash_BYTES_MIN || digest_size > crypto_generichash_BYTES_MAX) {
        throw Error(ErrorCode::Internal, "BLAKE2b digest size out of range");
    }
    crypto_generichash_init(&state_, nullptr, 0, digest_size);
}

void Blake2b::update(const void* data, std::size_t size) {
    crypto_generichash_update(&state_, static_cast<const unsigned char*>(data), size);
}

void Blake2b::finish(std::uint8_t* out) {
    if (finished_) throw Error(ErrorCode::Internal, "BLAKE2b hasher finished twice");
    finished_ = true;
    crypto_generichash_final(&state_, out, digest_size_);
}

std::string Blake2b::finish_hex() {
    std::uint8_t digest[crypto_generichash_BYTES_MAX];
    finish(digest);
    return to_hex(digest, digest_size_);
}

std::string hash_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_system_error("cannot open " + path);
    ObjectHasher hasher;
    std::vector<char> buffer(1 << 20);
    while (const std::size_t n = read_some(fd.get(), buffer.data(), buffer.size(), path))
        hasher.update(buffer.data(), n);
    return hasher.finish_hex();
}

std::string hash_stream(std::istream& in) {
    ObjectHasher hasher;
    std::vector<char> buffer(1 << 16);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        hasher.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) throw Error(ErrorCode::Io, "read error while hashing a stream");
    return hasher.finish_hex();
}

std::string hash_bytes(const void* data, std::size_t size) {
    ObjectHasher hasher;
    hasher.update(data, size);
    return hasher.finish_hex();
}

}  // namespace ferry
