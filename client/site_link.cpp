#include "site_link.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include <sstream>

#include "ferry/api_client.h"
#include "ferry/error.h"
#include "ferry/json.h"
#include "ferry/object_download.h"
#include "ferry/policy.h"

namespace ferry::agent {

namespace {

class HttpSiteLink : public SiteLink {
  public:
    explicit HttpSiteLink(const Enrolment& enrolment)
        : server_(enrolment.server), token_(enrolment.token), api_(server_, token_) {}

    PolicyAnswer fetch_policy(const std::string& client_id, const std::string& etag) override {
        // The envelope holds the policy (at most kMaxPolicyBytes), escaped, and its signature.
        const auto raw = api_.get_raw("/api/v1/clients/" + client_id + "/policy", etag,
                                      2 * kMaxPolicyBytes + 65536);
        PolicyAnswer answer;
        answer.etag = raw.etag;
        if (raw.status == 304) return answer;
        if (raw.status == 503) {
            answer.kind = PolicyAnswer::Kind::NotReady;
            return answer;
        }
        if (raw.status != 200) {
            std::string message = "the site answered " + std::to_string(raw.status);
            try {
                const auto json = json::parse_object(raw.body, "answer");
                if (json->has("message")) message += ": " + json->getValue<std::string>("message");
            } catch (const Error&) {
            }
            throw Error(raw.status == 401   ? ErrorCode::Unauthenticated
                        : raw.status == 403 ? ErrorCode::Forbidden
                                            : ErrorCode::Io,
                        "policy from " + server_ + ": " + message);
        }
        answer.kind = PolicyAnswer::Kind::Fresh;
        answer.body = raw.body;
        return answer;
    }

    Poco::JSON::Object::Ptr post(const std::string& path, const std::string& body) override {
        return api_.post(path, body);
    }

    void download(const std::string& object_id, std::uint64_t size,
                  const std::string& cache_dir) override {
        download_object({server_, token_}, object_id, size, cache_dir);
    }

  private:
    std::string server_;
    std::string token_;
    ApiClient api_;
};

}  // namespace

std::unique_ptr<SiteLink> make_http_link(const Enrolment& enrolment) {
    return std::make_unique<HttpSiteLink>(enrolment);
}

EnrolAnswer enrol_with_site(const std::string& server, const std::string& secret,
                            const std::string& hostname) {
    Poco::JSON::Object body;
    body.set("secret", secret);
    body.set("hostname", hostname);
    std::ostringstream text;
    Poco::JSON::Stringifier::stringify(body, text);
    const auto answer = ApiClient::without_token(server).post("/api/v1/clients/enroll", text.str());
    json::FieldReader in(answer, "enrolment answer from " + server);
    return {in.string("client_id", true, 64), in.string("token", true, 256),
            in.string("state", true, 16), in.string("site_public_key", true, 256)};
}

}  // namespace ferry::agent
