// SiteLink: everything the agent asks of the network — its policy, its objects, and the
// reports it sends back. One interface so that the agent's logic is tested without sockets
// and so that a distribution point (issue 5) can stand in for the site.
#pragma once

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent_state.h"

namespace ferry::agent {

struct PolicyAnswer {
    enum class Kind { Unchanged, Fresh, NotReady } kind = Kind::Unchanged;
    std::string etag;
    std::string body;  // the envelope, for Fresh
};

class SiteLink {
  public:
    virtual ~SiteLink() = default;
    // GET the client's policy with If-None-Match. Error on any failure (network, 4xx, 5xx).
    virtual PolicyAnswer fetch_policy(const std::string& client_id, const std::string& etag) = 0;
    // POST a JSON body; the answer's JSON. Error carrying the site's code and message.
    virtual Poco::JSON::Object::Ptr post(const std::string& path, const std::string& body) = 0;
    // Downloads an object into the cache directory as cache/ID (resumable, verified).
    virtual void download(const std::string& object_id, std::uint64_t size,
                          const std::string& cache_dir) = 0;
    // What answered the last request (for the log), and a way to say its answer could not be
    // trusted (a replayed policy): it is asked last for a while.
    virtual std::string last_source() const { return {}; }
    virtual void distrust_last_source() {}
};

// The site over HTTP(S), with the client token from enrolment.
std::unique_ptr<SiteLink> make_http_link(const Enrolment& enrolment);

// The distribution points the signed policy names (`sources`, in order), then the site: each
// request goes to the first that answers well. A source that is unreachable, answers 5xx or
// 503, or serves bytes that do not verify is skipped for that request (THREATS.md 14–17);
// a 4xx is the answer.
std::unique_ptr<SiteLink> make_failover_link(const Enrolment& enrolment,
                                             const std::vector<std::string>& sources);

// POST /api/v1/clients/enroll (no token: the secret is the credential).
struct EnrolAnswer {
    std::string client_id;
    std::string token;
    std::string state;
    std::string site_public_key;
};
EnrolAnswer enrol_with_site(const std::string& server, const std::string& secret,
                            const std::string& hostname);

}  // namespace ferry::agent
