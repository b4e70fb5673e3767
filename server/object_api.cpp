#include "object_api.h"

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/StreamSocket.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "ferry/encoding.h"
#include "ferry/error.h"

namespace ferry::server {
namespace {

using Poco::Net::HTTPResponse;

struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;  // inclusive
};

// Parses one "bytes=A-B", "bytes=A-" or "bytes=-N" range against `size`. nullopt for a header
// that is not a single byte range (served whole, as RFC 9110 allows); throws for one that
// cannot be satisfied.
std::optional<ByteRange> parse_range(const std::string& header, std::uint64_t size) {
    const std::string prefix = "bytes=";
    if (header.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    const std::string spec = header.substr(prefix.size());
    if (spec.find(',') != std::string::npos) return std::nullopt;
    const auto dash = spec.find('-');
    if (dash == std::string::npos) return std::nullopt;
    const std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
    auto number = [](const std::string& text) -> std::optional<std::uint64_t> {
        if (text.empty() || text.size() > 19 ||
            text.find_first_not_of("0123456789") != std::string::npos)
            return std::nullopt;
        return std::stoull(text);
    };
    ByteRange range;
    if (a.empty()) {
        const auto suffix = number(b);
        if (!suffix) return std::nullopt;
        if (*suffix == 0 || size == 0)
            throw Error(ErrorCode::LimitExceeded, "range not satisfiable");
        range.first = *suffix >= size ? 0 : size - *suffix;
        range.last = size - 1;
        return range;
    }
    const auto first = number(a);
    if (!first) return std::nullopt;
    const auto last = b.empty() ? std::optional<std::uint64_t>(UINT64_MAX) : number(b);
    if (!last || *last < *first) return std::nullopt;
    if (*first >= size) throw Error(ErrorCode::LimitExceeded, "range not satisfiable");
    range.first = *first;
    range.last = std::min(*last, size - 1);
    return range;
}

void send_json(Poco::Net::HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
               const Poco::JSON::Object& body) {
    std::ostringstream out;
    body.stringify(out);
    out << "\n";
    response.setStatusAndReason(status);
    response.setContentType("application/json");
    response.setContentLength(static_cast<std::streamsize>(out.str().size()));
    response.send() << out.str();
}

// `id`: the id the bytes must hash to (PUT), or none: they are named by their hash (POST).
void put_object(const ObjectStore& store, const std::optional<std::string>& id,
                Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                const ObjectApiLimits& limits) {
    if (request.hasContentLength() &&
        static_cast<std::uint64_t>(request.getContentLength64()) > limits.max_object_bytes) {
        throw Error(ErrorCode::LimitExceeded,
                    "object larger than " + std::to_string(limits.max_object_bytes) + " bytes");
    }
    auto writer = store.begin_put(id, limits.max_object_bytes);
    std::vector<char> buffer(1 << 20);
    std::istream& in = request.stream();
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
        writer->write(buffer.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) throw Error(ErrorCode::Io, "upload interrupted");
    const PutResult result =
        writer->commit();  // Error(VerificationFailed) when the bytes are not `id`
    Poco::JSON::Object body;
    body.set("id", result.id);
    body.set("size", static_cast<Poco::UInt64>(result.size));
    body.set("created", result.created);
    send_json(response, result.created ? HTTPResponse::HTTP_CREATED : HTTPResponse::HTTP_OK, body);
}

// The body with sendfile(2) on the request's own socket. Returns the bytes sent; a client that
// goes away or stalls past the socket's send timeout ends it early, like a failed stream write.
std::uint64_t send_file_body(Poco::Net::HTTPServerRequest& request, const std::string& path,
                             std::uint64_t first, std::uint64_t length) {
    auto& impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl&>(request);
    const int socket = impl.socket().impl()->sockfd();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_system_error("cannot open " + path);
    off_t offset = static_cast<off_t>(first);
    std::uint64_t left = length;
    while (left > 0) {
        const ssize_t sent = ::sendfile(
            socket, fd, &offset, static_cast<std::size_t>(std::min<std::uint64_t>(left, 1 << 30)));
        if (sent < 0 && errno == EINTR) continue;
        if (sent <= 0) break;
        left -= static_cast<std::uint64_t>(sent);
    }
    ::close(fd);
    return length - left;
}

std::uint64_t get_object(const ObjectStore& store, const std::string& id,
                         Poco::Net::HTTPServerRequest& request,
                         Poco::Net::HTTPServerResponse& response, const ObjectApiLimits& limits) {
    const std::string etag = "\"" + id + "\"";
    const std::uint64_t size = store.size(id);  // Error(NotFound) when absent
    response.set("ETag", etag);
    response.set("Cache-Control", "public, max-age=31536000, immutable");
    response.set("Accept-Ranges", "bytes");
    if (request.get("If-None-Match", "") == etag || request.get("If-None-Match", "") == "*") {
        response.setStatusAndReason(HTTPResponse::HTTP_NOT_MODIFIED);
        response.setContentLength(0);
        response.send();
        return 0;
    }
    std::optional<ByteRange> range;
    try {
        range = parse_range(request.get("Range", ""), size);
    } catch (const Error&) {
        response.setStatusAndReason(HTTPResponse::HTTP_REQUESTED_RANGE_NOT_SATISFIABLE);
        response.set("Content-Range", "bytes */" + std::to_string(size));
        response.setContentLength(0);
        response.send();
        return 0;
    }
    const std::uint64_t first = range ? range->first : 0;
    const std::uint64_t length = range ? range->last - range->first + 1 : size;
    response.setStatusAndReason(range ? HTTPResponse::HTTP_PARTIAL_CONTENT : HTTPResponse::HTTP_OK);
    if (range) {
        response.set("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                          std::to_string(range->last) + "/" + std::to_string(size));
    }
    response.setContentType("application/octet-stream");
    response.setContentLength64(static_cast<Poco::Int64>(length));
    std::ostream& out = response.send();
    if (request.getMethod() == "HEAD") return 0;
    if (limits.plain_socket && !limits.pace) {
        out.flush();  // the headers are on the socket; the body goes straight from the file
        return send_file_body(request, store.path(id), first, length);
    }
    std::ifstream in(store.path(id), std::ios::binary);
    in.seekg(static_cast<std::streamoff>(first));
    std::vector<char> buffer(limits.pace ? 64 << 10 : 1 << 20);
    std::uint64_t left = length;
    while (left > 0 && in) {
        in.read(buffer.data(),
                static_cast<std::streamsize>(std::min<std::uint64_t>(left, buffer.size())));
        const auto n = static_cast<std::uint64_t>(in.gcount());
        if (n == 0) break;
        if (limits.pace) limits.pace(static_cast<std::size_t>(n));
        out.write(buffer.data(), static_cast<std::streamsize>(n));
        left -= n;
    }
    return length - left;
}

}  // namespace

std::uint64_t objects_api(const ObjectStore& store, const Principal& caller, const std::string& id,
                          Poco::Net::HTTPServerRequest& request,
                          Poco::Net::HTTPServerResponse& response, const ObjectApiLimits& limits) {
    const std::string& method = request.getMethod();
    if (id.empty() && method == "POST") {
        UserService::require(caller, Permission::UploadObjects, "upload objects");
        put_object(store, std::nullopt, request, response, limits);
        return 0;
    }
    if (!is_object_id(id))
        throw Error(ErrorCode::InvalidInput, "an object id is 64 lowercase hex digits");
    if (method == "PUT") {
        UserService::require(caller, Permission::UploadObjects, "upload objects");
        put_object(store, id, request, response, limits);
        return 0;
    }
    if (method == "GET" || method == "HEAD") {
        UserService::require(caller, Permission::ReadObjects, "read objects");
        return get_object(store, id, request, response, limits);
    }
    throw Error(ErrorCode::NotFound, "no such route");
}

}  // namespace ferry::server
