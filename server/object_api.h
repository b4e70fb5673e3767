// /api/v1/objects/{id}: the DSL's content-addressed objects over HTTP.
//   PUT  (packager, admin)  streams the body into the ObjectStore; the id is verified while the
//        bytes are written and nothing becomes visible unless it matches; an existing object is
//        never overwritten. 201 when stored, 200 when it was already there.
//   POST /api/v1/objects (packager, admin)  the same, for bytes whose id the sender did not
//        compute (the console's upload form): they are named by their hash as they are written.
//   GET/HEAD (any role)     the bytes, with ETag = "id", If-None-Match -> 304, one Range ->
//        206 (416 when unsatisfiable), and immutable caching: an id never changes meaning.
// Ids that are not 64 lowercase hex digits ("..", "%2e%2e", …) are refused with 400 before the
// store is touched.
#pragma once

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <cstdint>
#include <functional>
#include <string>

#include "ferry/object_store.h"
#include "user_service.h"

namespace ferry::server {

struct ObjectApiLimits {
    std::uint64_t max_object_bytes = 8ULL << 30;
    // Called with each chunk's size before it is sent (a distribution point's bandwidth
    // limits); it may block. Chunks are 64 KiB when set, so pacing is smooth.
    std::function<void(std::size_t)> pace;
    // The connection is plain TCP (no TLS): an unpaced GET is sent with sendfile(2) from the
    // page cache, as nginx does, instead of being copied through the response stream.
    bool plain_socket = false;
};

// Returns the number of body bytes sent (for the bytes-served metric).
std::uint64_t objects_api(const ObjectStore& store, const Principal& caller, const std::string& id,
                          Poco::Net::HTTPServerRequest& request,
                          Poco::Net::HTTPServerResponse& response,
                          const ObjectApiLimits& limits = {});

}  // namespace ferry::server
