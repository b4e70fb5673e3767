#include "ferry/api_client.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <fstream>
#include <memory>

#include "ferry/error.h"
#include "ferry/json.h"
#include "tls_client.h"

// The client TLS context and its trust rules are shared with the object downloader.
struct ferry::ApiClient::Tls : ferry::ClientTls {};

namespace ferry {
namespace {

// Marks the client built by without_token(); never a real token (they have a prefix).
constexpr const char* kNoToken = "\x01no-token";

}  // namespace

std::shared_ptr<const ApiClient::Tls> ApiClient::make_tls(const std::string& host) {
    auto tls = std::make_shared<Tls>();
    static_cast<ClientTls&>(*tls) = make_client_tls(host);
    return tls;
}

namespace {

ErrorCode code_for_status(int status) {
    switch (status) {
        case 400:
            return ErrorCode::InvalidInput;
        case 401:
            return ErrorCode::Unauthenticated;
        case 403:
            return ErrorCode::Forbidden;
        case 404:
            return ErrorCode::NotFound;
        case 409:
            return ErrorCode::Conflict;
        case 413:
            return ErrorCode::LimitExceeded;
        case 422:
            return ErrorCode::VerificationFailed;
        default:
            return ErrorCode::Internal;
    }
}

}  // namespace

ApiClient::ApiClient(const std::string& server, std::string token) : token_(std::move(token)) {
    Poco::URI uri;
    try {
        uri = Poco::URI(server);
    } catch (const Poco::Exception& e) {
        throw Error(ErrorCode::InvalidInput, "--server \"" + server + "\": " + e.displayText());
    }
    if ((uri.getScheme() != "http" && uri.getScheme() != "https") || uri.getHost().empty()) {
        throw Error(
            ErrorCode::InvalidInput,
            "--server \"" + server + "\" must look like http://HOST:PORT or https://HOST:PORT");
    }
    scheme_ = uri.getScheme();
    host_ = uri.getHost();
    port_ = uri.getPort();
    if (token_.empty())
        throw Error(ErrorCode::InvalidInput, "a token is needed: --token T or FERRY_TOKEN");
    if (token_ == kNoToken) token_.clear();
    if (scheme_ == "https") tls_ = make_tls(host_);
}

Poco::JSON::Object::Ptr ApiClient::get(const std::string& path) const {
    return request("GET", path, "");
}

Poco::JSON::Object::Ptr ApiClient::post(const std::string& path,
                                        const std::string& json_body) const {
    return request("POST", path, json_body);
}

Poco::JSON::Object::Ptr ApiClient::put_file(const std::string& path,
                                            const std::string& file) const {
    return request("PUT", path, "", file);
}

ApiClient ApiClient::without_token(const std::string& server) {
    return ApiClient(server, kNoToken);
}

ApiClient::RawAnswer ApiClient::get_raw(const std::string& path, const std::string& if_none_match,
                                        std::size_t max_body) const {
    return exchange("GET", path, "", "", if_none_match, max_body);
}

ApiClient::RawAnswer ApiClient::head_raw(const std::string& path) const {
    return exchange("HEAD", path, "", "", "", 0);
}

ApiClient::RawAnswer ApiClient::post_raw(const std::string& path, const std::string& json_body,
                                         std::size_t max_body) const {
    return exchange("POST", path, json_body, "", "", max_body);
}

ApiClient::RawAnswer ApiClient::exchange(const std::string& method, const std::string& path,
                                         const std::string& body, const std::string& file,
                                         const std::string& if_none_match,
                                         std::size_t max_body) const {
    std::ifstream upload;
    std::uint64_t upload_size = 0;
    if (!file.empty()) {
        upload.open(file, std::ios::binary | std::ios::ate);
        if (!upload) throw Error(ErrorCode::NotFound, "cannot open " + file);
        upload_size = static_cast<std::uint64_t>(upload.tellg());
        upload.seekg(0);
    }
    const std::string where = scheme_ + "://" +
                              (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) +
                              ":" + std::to_string(port_);
    std::string answer;
    Poco::Net::HTTPResponse response;
    clear_certificate_error();
    try {
        const std::unique_ptr<Poco::Net::HTTPClientSession> connection =
            tls_ ? std::make_unique<Poco::Net::HTTPSClientSession>(host_, port_, tls_->context)
                 : std::make_unique<Poco::Net::HTTPClientSession>(host_, port_);
        Poco::Net::HTTPClientSession& session = *connection;
        session.setTimeout(Poco::Timespan(30, 0));
        Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        if (!token_.empty()) request.set("Authorization", "Bearer " + token_);
        if (!if_none_match.empty()) request.set("If-None-Match", if_none_match);
        if (!file.empty()) {
            request.setContentType("application/octet-stream");
            request.setContentLength64(static_cast<Poco::Int64>(upload_size));
            std::ostream& out = session.sendRequest(request);
            Poco::StreamCopier::copyStream64(upload, out);
        } else {
            if (method == "POST") {
                request.setContentType("application/json");
                request.setContentLength(static_cast<std::streamsize>(body.size()));
            }
            session.sendRequest(request) << body;
        }
        std::istream& in = session.receiveResponse(response);
        char buffer[8192];
        while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
            answer.append(buffer, static_cast<std::size_t>(in.gcount()));
            if (answer.size() > max_body)
                throw Error(ErrorCode::LimitExceeded, "the answer of " + where + path +
                                                          " is larger than " +
                                                          std::to_string(max_body) + " bytes");
        }
    } catch (const Poco::Net::SSLException& e) {
        throw tls_error(e, *tls_, "ferryd at " + where);
    } catch (const Poco::Exception& e) {
        std::string hint;
        if (!tls_ && (dynamic_cast<const Poco::Net::NoMessageException*>(&e) != nullptr ||
                      dynamic_cast<const Poco::Net::ConnectionResetException*>(&e) != nullptr))
            hint = " (if ferryd serves HTTPS there, use an https:// URL)";
        throw Error(ErrorCode::Io,
                    "cannot reach ferryd at " + where + ": " + e.displayText() + hint);
    }
    return {static_cast<int>(response.getStatus()), response.get("ETag", ""), answer,
            response.hasContentLength() ? static_cast<std::int64_t>(response.getContentLength64())
                                        : -1};
}

Poco::JSON::Object::Ptr ApiClient::request(const std::string& method, const std::string& path,
                                           const std::string& body, const std::string& file) const {
    const std::string where = scheme_ + "://" +
                              (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) +
                              ":" + std::to_string(port_);
    const RawAnswer raw = exchange(method, path, body, file, "", 64 << 20);
    const int status = raw.status;
    const std::string& answer = raw.body;
    Poco::JSON::Object::Ptr json;
    try {
        json = json::parse_object(answer, "answer from " + where);
    } catch (const Error&) {
        if (status >= 400)
            throw Error(code_for_status(status), "ferryd answered " + std::to_string(status));
        throw;
    }
    if (status >= 400) {
        const std::string message = json->has("message") ? json->getValue<std::string>("message")
                                                         : "error " + std::to_string(status);
        throw Error(code_for_status(status), message);
    }
    return json;
}

}  // namespace ferry
