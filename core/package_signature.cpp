#include "ferry/package_signature.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "ferry/error.h"
#include "ferry/hash.h"
#include "side_hasher.h"
#include "unique_fd.h"

namespace ferry {

namespace {

constexpr std::size_t kDigestBlock = 1 << 20;
constexpr std::size_t kDigestSlots = 4;
// Below this the second thread costs more than it saves.
constexpr std::uint64_t kParallelDigestMin = 4 << 20;

// Reads the whole of `fd` through `block`, handing each block to `use`; returns the byte count.
template <typename Block, typename Use>
std::uint64_t read_blocks(int fd, const std::string& path, Block&& block, Use&& use) {
    std::uint64_t total = 0;
    for (;;) {
        std::vector<char>& buffer = block();
        ssize_t n;
        do {
            n = ::read(fd, buffer.data(), buffer.size());
        } while (n < 0 && errno == EINTR);
        if (n < 0) throw_system_error("cannot read " + path);
        if (n == 0) return total;
        total += static_cast<std::uint64_t>(n);
        use(buffer, static_cast<std::size_t>(n), total);
    }
}

}  // namespace

FileDigest digest_file(const std::string& path, const ProgressFn& progress) {
    // O_NONBLOCK and the type check: a FIFO or device named as a package is refused, not read
    // forever.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd) throw_system_error("cannot open " + path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_system_error("cannot stat " + path);
    if (!S_ISREG(st.st_mode)) throw Error(ErrorCode::InvalidInput, path + ": not a regular file");
    const off_t total = st.st_size;
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    ObjectHasher object_hasher;
    Blake2b prehasher(64);
    FileDigest digest;
    auto report = [&](std::uint64_t done) {
        if (progress) progress(done, static_cast<std::uint64_t>(total));
    };
    if (total > 0 && static_cast<std::uint64_t>(total) >= kParallelDigestMin) {
        // The object id on this thread, the prehash beside it.
        SideHasher side(prehasher, kDigestSlots, kDigestBlock);
        digest.size = read_blocks(
            fd.get(), path, [&]() -> std::vector<char>& { return side.next_block(); },
            [&](const std::vector<char>& buffer, std::size_t n, std::uint64_t done) {
                side.publish(n);
                object_hasher.update(buffer.data(), n);
                report(done);
            });
        side.finish();
    } else {
        std::vector<char> buffer(kDigestBlock);
        digest.size = read_blocks(
            fd.get(), path, [&]() -> std::vector<char>& { return buffer; },
            [&](const std::vector<char>& block, std::size_t n, std::uint64_t done) {
                object_hasher.update(block.data(), n);
                prehasher.update(block.data(), n);
                report(done);
            });
    }
    digest.object_id = object_hasher.finish_hex();
    prehasher.finish(digest.prehash.data());
    return digest;
}

std::string format_trusted_comment(const PackageClaims& claims, std::int64_t timestamp,
                                   const std::string& file_name) {
    std::string safe_name;
    for (char c : file_name) {
        const auto u = static_cast<unsigned char>(c);
        safe_name.push_back(u < 0x20 || u == 0x7f ? '_' : c);
    }
    return "timestamp:" + std::to_string(timestamp) + "\tfile:" + safe_name +
           "\tpackage:" + claims.name + "\tversion:" + claims.version +
           "\tobject:" + claims.object_id;
}

PackageClaims parse_trusted_comment(const std::string& comment) {
    PackageClaims claims;
    bool have_name = false, have_version = false, have_object = false;
    std::size_t start = 0;
    while (start <= comment.size()) {
        const auto tab = comment.find('\t', start);
        const std::string field =
            comment.substr(start, tab == std::string::npos ? std::string::npos : tab - start);
        const auto colon = field.find(':');
        if (colon != std::string::npos) {
            const std::string key = field.substr(0, colon);
            const std::string value = field.substr(colon + 1);
            auto take = [&](bool& have, std::string& into) {
                if (have) {
                    throw Error(ErrorCode::VerificationFailed,
                                "trusted comment names \"" + key + "\" twice");
                }
                have = true;
                into = value;
            };
            if (key == "package") take(have_name, claims.name);
            if (key == "version") take(have_version, claims.version);
            if (key == "object") take(have_object, claims.object_id);
        }
        if (tab == std::string::npos) break;
        start = tab + 1;
    }
    if (!have_name || !have_version || !have_object) {
        throw Error(ErrorCode::VerificationFailed,
                    "the signature's trusted comment does not name the package, version and object "
                    "it signs (expected package:NAME, version:VERSION and object:ID fields)");
    }
    return claims;
}

minisign::Signature sign_package(const minisign::SecretKey& key, const FileDigest& digest,
                                 const Manifest& manifest, const std::string& file_name) {
    const PackageClaims claims{manifest.name, manifest.version, digest.object_id};
    const std::string trusted =
        format_trusted_comment(claims, static_cast<std::int64_t>(::time(nullptr)), file_name);
    return minisign::sign_prehash(key, digest.prehash, trusted,
                                  "signature from ferry-pack secret key");
}

PackageClaims verify_signed_digest(const minisign::PublicKey& key,
                                   const minisign::Signature& signature, const FileDigest& digest) {
    minisign::verify_prehash(key, signature, digest.prehash);
    const PackageClaims claims = parse_trusted_comment(signature.trusted_comment);
    if (claims.object_id != digest.object_id) {
        throw Error(ErrorCode::VerificationFailed, "the signature is for object " +
                                                       claims.object_id + ", but this file is " +
                                                       digest.object_id);
    }
    return claims;
}

void check_claims_match(const PackageClaims& claims, const Manifest& manifest) {
    if (claims.name != manifest.name || claims.version != manifest.version) {
        throw Error(ErrorCode::VerificationFailed, "the signature is for " + claims.name + " " +
                                                       claims.version + ", but the package is " +
                                                       manifest.name + " " + manifest.version);
    }
}

PackageClaims verify_package_signature(const minisign::PublicKey& key,
                                       const minisign::Signature& signature,
                                       const FileDigest& digest, const Manifest& manifest) {
    const PackageClaims claims = verify_signed_digest(key, signature, digest);
    check_claims_match(claims, manifest);
    return claims;
}

}  // namespace ferry
