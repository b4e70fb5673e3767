// The pieces of an HTTP exchange every ferryd role answers the same way: JSON and error
// answers, the one mapping from ferry::Error codes to statuses, and bounded request bodies.
#pragma once

#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <string>

#include "ferry/error.h"

namespace ferry::server {

void send_body(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
               const std::string& content_type, const std::string& body);
// {"error": CODE, "message": MESSAGE}
void send_error_answer(Poco::Net::HTTPServerResponse& response,
                       Poco::Net::HTTPResponse::HTTPStatus status, const std::string& code,
                       const std::string& message);
Poco::Net::HTTPResponse::HTTPStatus http_status_for(ErrorCode code);
// Sends the Error as its status and message.
void send_error(Poco::Net::HTTPServerResponse& response, const Error& error);

// A request body of at most `limit` bytes; Error(LimitExceeded) past it. A body a little too
// large is drained first, so the client reads the 413 instead of a reset.
std::string read_request_body(Poco::Net::HTTPServerRequest& request, std::size_t limit);

}  // namespace ferry::server
