// ApiClient: the programs' side of ferryd's REST API (ferryctl, ferry-pack push). One request at a
// time, JSON in and out; an error answer becomes the ferry::Error the server meant (401 ->
// Unauthenticated, 403 -> Forbidden, …) with the server's own message, and an unreachable server
// says which address it tried.
//
// https:// URLs are served over TLS (1.2 or later) and the server's certificate is always
// verified, chain and host name: against the system's CA store, or, when FERRY_CA_FILE names a
// PEM file, against the certificates in that file only (a private CA, or ferryd's self-signed
// certificate). A certificate that does not verify is Error(VerificationFailed) naming the server
// and OpenSSL's reason; it is never accepted.
#pragma once

#include <Poco/JSON/Object.h>

#include <memory>
#include <string>

namespace ferry {

class ApiClient {
  public:
    // `server` is "http://HOST:PORT" or "https://HOST[:PORT]". Reads FERRY_CA_FILE for https.
    // Error(InvalidInput) for another URL or an empty token; Error(NotFound/Io/InvalidInput)
    // naming FERRY_CA_FILE when that file cannot be used.
    ApiClient(const std::string& server, std::string token);

    // For the one request that carries no token (an agent's enrolment, where the secret in the
    // body is the credential).
    static ApiClient without_token(const std::string& server);

    Poco::JSON::Object::Ptr get(const std::string& path) const;
    Poco::JSON::Object::Ptr post(const std::string& path, const std::string& json_body) const;
    // Streams a file as the body of a PUT (object uploads), without reading it into memory.
    Poco::JSON::Object::Ptr put_file(const std::string& path, const std::string& file) const;

    // A GET whose answer the caller interprets: any HTTP status comes back (a 304, a 503), with
    // the headers it needs; only a transport failure throws (as get() does).
    struct RawAnswer {
        int status = 0;
        std::string etag;
        std::string body;
        std::int64_t content_length = -1;  // as announced (a HEAD's size), -1 when not
    };
    // At most `max_body` bytes are read: a longer answer is Error(LimitExceeded), so a hostile
    // server cannot feed an endless body.
    RawAnswer get_raw(const std::string& path, const std::string& if_none_match = "",
                      std::size_t max_body = 64 << 20) const;
    RawAnswer head_raw(const std::string& path) const;
    // A POST whose answer the caller interprets (any status), for relaying another's request.
    RawAnswer post_raw(const std::string& path, const std::string& json_body,
                       std::size_t max_body = 64 << 20) const;

  private:
    Poco::JSON::Object::Ptr request(const std::string& method, const std::string& path,
                                    const std::string& body, const std::string& file = "") const;
    // Sends the request and reads the whole answer; throws only for transport failures.
    RawAnswer exchange(const std::string& method, const std::string& path, const std::string& body,
                       const std::string& file, const std::string& if_none_match,
                       std::size_t max_body) const;

    struct Tls;  // the client TLS context, for https only
    static std::shared_ptr<const Tls> make_tls(const std::string& host);

    std::string scheme_;
    std::string host_;
    unsigned short port_ = 0;
    std::string token_;
    std::shared_ptr<const Tls> tls_;
};

}  // namespace ferry
