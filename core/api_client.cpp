#include "ferry/api_client.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <fstream>

#include "ferry/error.h"
#include "ferry/json.h"

namespace ferry {
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
    if (uri.getScheme() != "http" || uri.getHost().empty()) {
        throw Error(ErrorCode::InvalidInput,
                    "--server \"" + server + "\" must look like http://HOST:PORT");
    }
    host_ = uri.getHost();
    port_ = uri.getPort();
    if (token_.empty())
        throw Error(ErrorCode::InvalidInput, "a token is needed: --token T or FERRY_TOKEN");
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

Poco::JSON::Object::Ptr ApiClient::request(const std::string& method, const std::string& path,
                                           const std::string& body, const std::string& file) const {
    std::ifstream upload;
    std::uint64_t upload_size = 0;
    if (!file.empty()) {
        upload.open(file, std::ios::binary | std::ios::ate);
        if (!upload) throw Error(ErrorCode::NotFound, "cannot open " + file);
        upload_size = static_cast<std::uint64_t>(upload.tellg());
        upload.seekg(0);
    }
    const std::string where = "http://" + host_ + ":" + std::to_string(port_);
    std::string answer;
    Poco::Net::HTTPResponse response;
    try {
        Poco::Net::HTTPClientSession session(host_, port_);
        session.setTimeout(Poco::Timespan(30, 0));
        Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("Authorization", "Bearer " + token_);
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
        Poco::StreamCopier::copyToString(session.receiveResponse(response), answer);
    } catch (const Poco::Exception& e) {
        throw Error(ErrorCode::Io, "cannot reach ferryd at " + where + ": " + e.displayText());
    }
    const int status = static_cast<int>(response.getStatus());
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
