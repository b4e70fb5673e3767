// download_object: the one downloader of content-addressed objects, used by ferry-agent and by
// distribution points replicating from their parent (THREATS: endless data, slow retrieval,
// malicious DP).
//
// It fetches GET {base_url}/api/v1/objects/{id} into dest_dir/{id}:
//  * The bytes go to dest_dir/{id}.part. An existing .part is resumed with `Range: bytes=N-`
//    (its N bytes are hashed from disk first). A 200 answer to a Range request restarts from
//    byte 0; a 206 whose Content-Range is not exactly "bytes N-(size-1)/size" is refused.
//  * Never more than `size` bytes reach the disk: an answer whose Content-Length is larger is
//    refused before its body is read, and a longer (or endless) body is cut at `size`; both fail
//    "sent more than the declared N bytes".
//  * When all `size` bytes are there, their BLAKE2b-256 must be `id`; then the file is fsynced,
//    renamed to dest_dir/{id} and the directory fsynced. A reader never sees a partial or
//    unverified dest_dir/{id}.
//  * If dest_dir/{id} already exists with the right size and hash, the call returns at once
//    without any request. One that does not verify is deleted and downloaded again.
//  * Connecting (TCP and the TLS handshake) must take at most connect_timeout; the answer's
//    headers and then each read of its body at most read_timeout; the whole call at most
//    `overall`; and over every min_rate_window the body must average min_bytes_per_second.
//    Every wait on the network ends when the first of these limits runs out, to within a few
//    milliseconds (a watchdog thread shuts the socket down then; socket timeouts alone are not
//    precise, and Poco's TLS reads wait twice as long). Resolving the host name is left to the
//    system and is not bounded by these limits.
//  * https:// sources are verified exactly as ApiClient verifies ferryd (chain and host name,
//    FERRY_CA_FILE or the system's CA store). Redirects are not followed.
//  * Concurrent calls for the same id and dest_dir (threads or processes) are safe: the .part is
//    locked (flock), and the loser fails with Error(Conflict) without touching it.
//
// Errors (ferry::Error; a message about the source starts "object ID from SOURCE: ", one about a
// local file names the file):
//  * InvalidInput: `id` is not 64 lowercase hex digits (checked before any path is built or any
//    request made), a base_url that is not http(s)://HOST[:PORT][/PREFIX], a token with control
//    characters, a limit that is zero or negative.
//  * Unauthenticated / Forbidden / NotFound: the source answered 401 / 403 / 404 (naming the URL).
//  * VerificationFailed: the bytes hash to another id ("bytes hash to X"; the .part is deleted);
//    the source sent or announced more than `size` bytes (the .part is deleted if this source
//    wrote into it); a 206 with the wrong Content-Range, or a 416 (the .part is kept).
//  * Io: cannot connect ("cannot connect within 10 s"), no answer, stalled ("stalled: no byte for
//    30 s"), too slow ("too slow: 200 B/s over 30 s, minimum 1024 B/s"), over the overall limit
//    ("not done within the overall limit of 3600 s"), the body ended or the connection broke
//    before `size` bytes, any other HTTP status (5xx, redirects), a TLS handshake failure,
//    cancelled, and local file errors. The .part is kept with every byte received (fsynced), for
//    the next call to resume; an empty one is removed.
//  * VerificationFailed for a TLS certificate that is not trusted (as ApiClient).
//  * Conflict: another download of the same object into the same dest_dir is running.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "ferry/progress.h"

namespace ferry {

struct DownloadSource {
    std::string base_url;  // "http://HOST:PORT" or "https://HOST[:PORT]", optionally + "/PREFIX"
    std::string token;     // sent as "Authorization: Bearer TOKEN"; empty sends no Authorization
};

// Every duration must be positive. Defaults suit a workstation on a slow WAN link.
struct DownloadLimits {
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};  // TCP connect + TLS
    std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};     // longest silence allowed
    std::chrono::milliseconds overall{std::chrono::seconds(3600)};        // the whole call
    std::uint64_t min_bytes_per_second = 1024;  // averaged over min_rate_window; 0: no minimum
    std::chrono::milliseconds min_rate_window{std::chrono::seconds(30)};
};

struct DownloadResult {
    std::uint64_t bytes_fetched = 0;  // body bytes this call received and kept
    std::uint64_t resumed_from = 0;   // bytes of an earlier .part that were kept (0 if none)
    bool already_present = false;     // dest_dir/{id} existed and verified: nothing was fetched
};

// Downloads object `id` of `size` bytes from `source` into dest_dir/{id} (dest_dir must exist);
// see the top of this file. `progress`, when given, is called with (bytes on disk, size) as the
// body arrives. `cancel`, when given, may be set from another thread: the call then ends within
// about 50 ms (once connected; connecting is bounded by connect_timeout) with
// Error(Io, "... cancelled ..."), the .part kept.
DownloadResult download_object(const DownloadSource& source, const std::string& id,
                               std::uint64_t size, const std::string& dest_dir,
                               const DownloadLimits& limits = {},
                               const ProgressFn& progress = nullptr,
                               const std::atomic<bool>* cancel = nullptr);

}  // namespace ferry
