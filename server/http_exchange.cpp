#include "http_exchange.h"

#include <Poco/JSON/Object.h>

#include <sstream>

namespace ferry::server {

using Poco::Net::HTTPResponse;

void send_body(Poco::Net::HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
               const std::string& content_type, const std::string& body) {
    response.setStatusAndReason(status);
    response.setContentType(content_type);
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.set("Cache-Control", "no-store");
    response.send() << body;
}

void send_error_answer(Poco::Net::HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
                       const std::string& code, const std::string& message) {
    Poco::JSON::Object body;  // serialised by Poco: a message may quote request input
    body.set("error", code);
    body.set("message", message);
    std::ostringstream out;
    body.stringify(out);
    out << "\n";
    send_body(response, status, "application/json", out.str());
}

HTTPResponse::HTTPStatus http_status_for(ErrorCode code) {
    switch (code) {
        case ErrorCode::InvalidInput:
            return HTTPResponse::HTTP_BAD_REQUEST;
        case ErrorCode::NotFound:
            return HTTPResponse::HTTP_NOT_FOUND;
        case ErrorCode::AlreadyExists:
        case ErrorCode::Conflict:
            return HTTPResponse::HTTP_CONFLICT;
        case ErrorCode::Unauthenticated:
            return HTTPResponse::HTTP_UNAUTHORIZED;
        case ErrorCode::Forbidden:
            return HTTPResponse::HTTP_FORBIDDEN;
        case ErrorCode::VerificationFailed:
        case ErrorCode::UnsafeArchive:
            return HTTPResponse::HTTP_UNPROCESSABLE_ENTITY;
        case ErrorCode::LimitExceeded:
            return HTTPResponse::HTTP_REQUESTENTITYTOOLARGE;
        default:
            return HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
    }
}

void send_error(Poco::Net::HTTPServerResponse& response, const Error& error) {
    send_error_answer(response, http_status_for(error.code()), error_code_name(error.code()),
                      error.what());
}

std::string read_request_body(Poco::Net::HTTPServerRequest& request, std::size_t limit) {
    constexpr std::size_t kMaxDrained = 1 << 20;
    std::istream& in = request.stream();
    char chunk[8192];
    if (request.hasContentLength() &&
        request.getContentLength64() > static_cast<Poco::Int64>(limit)) {
        if (request.getContentLength64() <= static_cast<Poco::Int64>(kMaxDrained)) {
            std::size_t total = 0;
            while (total < kMaxDrained && (in.read(chunk, sizeof chunk) || in.gcount() > 0))
                total += static_cast<std::size_t>(in.gcount());
        }
        throw Error(ErrorCode::LimitExceeded,
                    "request body larger than " + std::to_string(limit) + " bytes");
    }
    std::string body;
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
        body.append(chunk, static_cast<std::size_t>(in.gcount()));
        if (body.size() > limit)
            throw Error(ErrorCode::LimitExceeded,
                        "request body larger than " + std::to_string(limit) + " bytes");
    }
    return body;
}

}  // namespace ferry::server
