// PolicyBuilder: turns what the site knows into one signed policy per client (DESIGN §4).
// Clients marked dirty (their collections, advertisements, state or the trusted publishers
// changed) get their policy rebuilt; a policy whose content did not change keeps its version
// and bytes, so the client's next poll is a 304. Versions only grow. Policies are re-issued
// before they expire. Every new policy goes on the feed for distribution points.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ferry/minisign.h"
#include "ferry/policy.h"

namespace ferry::server {

// How long a signed policy stays valid, and when it is re-issued.
constexpr std::int64_t kPolicyLifetime = 7 * 86400;
constexpr std::int64_t kPolicyRenewBefore = 3 * 86400;

struct PolicyTarget {
    std::int64_t client_id = 0;
    std::string uid;
    bool active = false;  // pending and revoked clients get no policy
};

struct StoredPolicy {
    std::uint64_t version = 0;
    std::string content;  // digest of the content without version and times
    std::string etag;
    std::string json;
    std::string signature;
    std::int64_t expires_at = 0;
};

class PolicyStore {
  public:
    virtual ~PolicyStore() = default;
    // Marks clients whose policy expires before `before` as dirty.
    virtual void mark_expiring(std::int64_t before) = 0;
    // Takes up to `limit` dirty clients and clears their marks, so that a change arriving
    // while they are built marks them again.
    virtual std::vector<PolicyTarget> claim_dirty(int limit) = 0;
    // Marks clients dirty again (a build that failed).
    virtual void remark(const std::vector<std::int64_t>& client_ids) = 0;
    virtual std::vector<PublisherKey> publishers() = 0;
    virtual std::vector<PolicyAdvertisement> advertisements_for(std::int64_t client_id) = 0;
    // The addresses of the distribution points assigned to the client's collections, by name.
    virtual std::vector<std::string> sources_for(std::int64_t client_id) = 0;
    // The client's policy as the builder compares it: version, content and expiry only.
    virtual std::optional<StoredPolicy> current(std::int64_t client_id) = 0;
    // Stores a batch of new policies, with a feed entry each, in one transaction.
    virtual void save(const std::vector<std::pair<PolicyTarget, StoredPolicy>>& policies,
                      std::int64_t at) = 0;
    virtual std::optional<StoredPolicy> by_uid(const std::string& uid) = 0;
    // Only the ETag of the client's policy: what an idle poll needs.
    virtual std::optional<std::string> etag_of(const std::string& uid) = 0;
};

class PolicyBuilder {
  public:
    // Checks the site key pair once (Error(VerificationFailed) for a broken one).
    PolicyBuilder(PolicyStore& store, const minisign::SecretKey& site_key);

    struct Outcome {
        std::int64_t examined = 0;  // dirty clients taken (0: nothing left to do)
        std::int64_t issued = 0;    // policies that got a new version
    };
    // Rebuilds up to `limit` dirty clients.
    Outcome build_dirty(std::int64_t now, int limit = 2000);
    // Rebuilds dirty clients batch after batch until none is left, or `keep_going` says to
    // stop (the batches taken are still finished). Signing is most of the cost: a batch is
    // signed while the next is read and the one before saved, so that the store's work, which
    // is serial, overlaps it. A batch that fails is marked dirty again, and so is every batch
    // taken and not yet saved; the error is then thrown.
    Outcome build_all_dirty(const std::function<std::int64_t()>& clock,
                            const std::function<bool()>& keep_going, int limit = 2000);

  private:
    std::int64_t build(const std::vector<PolicyTarget>& targets, std::int64_t now);
    PolicyStore& store_;
    const minisign::SecretKey& site_key_;
};

// The ETag of a stored policy: version and content, quoted.
std::string policy_etag(std::uint64_t version, const std::string& json);

}  // namespace ferry::server
