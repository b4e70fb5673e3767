#include "site_link.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include <optional>
#include <sstream>
#include <utility>

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
        : HttpSiteLink(enrolment.server, enrolment.token) {}
    HttpSiteLink(std::string server, std::string token)
        : server_(std::move(server)), token_(std::move(token)), api_(server_, token_) {}
    std::string last_source() const override { return server_; }

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

// Tries each source in order; see make_failover_link.
class FailoverLink : public SiteLink {
  public:
    FailoverLink(const Enrolment& enrolment, const std::vector<std::string>& sources) {
        for (const auto& url : sources)
            if (url != enrolment.server)
                links_.push_back(std::make_unique<HttpSiteLink>(url, enrolment.token));
        links_.push_back(std::make_unique<HttpSiteLink>(enrolment));
        site_ = links_.back().get();
    }

    PolicyAnswer fetch_policy(const std::string& client_id, const std::string& etag) override {
        return first_good([&](SiteLink& link) {
            PolicyAnswer answer = link.fetch_policy(client_id, etag);
            if (answer.kind == PolicyAnswer::Kind::NotReady && &link != site_)
                throw Error(ErrorCode::Io, "not ready at " + link.last_source());
            return answer;
        });
    }

    Poco::JSON::Object::Ptr post(const std::string& path, const std::string& body) override {
        return first_good([&](SiteLink& link) { return link.post(path, body); });
    }

    void download(const std::string& object_id, std::uint64_t size,
                  const std::string& cache_dir) override {
        first_good([&](SiteLink& link) {
            link.download(object_id, size, cache_dir);
            return 0;
        });
    }

    std::string last_source() const override { return last_ ? last_->last_source() : ""; }

    void distrust_last_source() override {
        if (!last_ || links_.size() < 2) return;
        for (auto it = links_.begin(); it != links_.end(); ++it)
            if (it->get() == last_) {
                auto moved = std::move(*it);
                links_.erase(it);
                links_.push_back(std::move(moved));
                return;
            }
    }

  private:
    // An answer from the first source that gives one; a 4xx (but 404/503-like ones from a DP
    // that does not hold what is asked) is the answer, anything else tries the next source.
    template <typename Request>
    auto first_good(Request&& request) -> decltype(request(std::declval<SiteLink&>())) {
        std::optional<Error> last_error;
        for (auto& link : links_) {
            try {
                last_ = link.get();
                return request(*link);
            } catch (const Error& e) {
                const bool definitive =
                    (e.code() == ErrorCode::InvalidInput || e.code() == ErrorCode::Conflict ||
                     e.code() == ErrorCode::Forbidden || e.code() == ErrorCode::LimitExceeded) &&
                    link.get() == site_;  // the site's answer is final, a DP's is not
                if (definitive) throw;
                last_error = e;
            }
        }
        throw *last_error;
    }

    std::vector<std::unique_ptr<SiteLink>> links_;
    SiteLink* last_ = nullptr;
    SiteLink* site_ = nullptr;  // the enrolment's server, wherever distrust moved it
};

}  // namespace

std::unique_ptr<SiteLink> make_failover_link(const Enrolment& enrolment,
                                             const std::vector<std::string>& sources) {
    return std::make_unique<FailoverLink>(enrolment, sources);
}

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
