// ApiClient: the programs' side of ferryd's REST API (ferryctl, ferry-pack push). One request at a
// time, JSON in and out; an error answer becomes the ferry::Error the server meant (401 ->
// Unauthenticated, 403 -> Forbidden, …) with the server's own message, and an unreachable server
// says which address it tried.
#pragma once

#include <Poco/JSON/Object.h>

#include <string>

namespace ferry {

class ApiClient {
  public:
    // `server` is "http://HOST:PORT"; https is refused until ferryd serves it.
    ApiClient(const std::string& server, std::string token);

    Poco::JSON::Object::Ptr get(const std::string& path) const;
    Poco::JSON::Object::Ptr post(const std::string& path, const std::string& json_body) const;
    // Streams a file as the body of a PUT (object uploads), without reading it into memory.
    Poco::JSON::Object::Ptr put_file(const std::string& path, const std::string& file) const;

  private:
    Poco::JSON::Object::Ptr request(const std::string& method, const std::string& path,
                                    const std::string& body, const std::string& file = "") const;

    std::string host_;
    unsigned short port_ = 0;
    std::string token_;
};

}  // namespace ferry
