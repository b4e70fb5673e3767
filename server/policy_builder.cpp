#include "policy_builder.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>

#include "ferry/hash.h"

namespace ferry::server {

std::string policy_etag(std::uint64_t version, const std::string& json) {
    return "\"v" + std::to_string(version) + "-" +
           hash_bytes(json.data(), json.size()).substr(0, 16) + "\"";
}

PolicyBuilder::Outcome PolicyBuilder::build_dirty(std::int64_t now, int limit) {
    store_.mark_expiring(now + kPolicyRenewBefore);
    const auto targets = store_.claim_dirty(limit);
    if (targets.empty()) return {};
    try {
        return {static_cast<std::int64_t>(targets.size()), build(targets, now)};
    } catch (...) {
        std::vector<std::int64_t> ids;
        for (const auto& target : targets) ids.push_back(target.client_id);
        store_.remark(ids);
        throw;
    }
}

PolicyBuilder::PolicyBuilder(PolicyStore& store, const minisign::SecretKey& site_key)
    : store_(store), site_key_(site_key) {
    // One checked signature proves the key pair; each policy's signature then skips the check.
    minisign::sign_prehash(site_key_, minisign::Prehash{}, "ferry site key check", "");
}

namespace {

struct Pending {
    PolicyTarget target;
    Policy policy;
    std::string content;
};

// Signs every pending policy, on several threads when there are many: signing is most of the
// cost of a collection-wide change.
std::vector<StoredPolicy> sign_all(const std::vector<Pending>& pending,
                                   const minisign::SecretKey& key) {
    std::vector<StoredPolicy> out(pending.size());
    auto sign_range = [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            const SignedPolicy signed_policy = sign_policy(pending[i].policy, key, true);
            StoredPolicy& stored = out[i];
            stored.version = pending[i].policy.version;
            stored.content = pending[i].content;
            stored.json = signed_policy.json;
            stored.signature = signed_policy.signature;
            stored.etag = policy_etag(stored.version, stored.json);
            stored.expires_at = pending[i].policy.expires_at;
        }
    };
    const std::size_t threads =
        pending.size() < 64 ? 1
                            : std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
    std::vector<std::thread> workers;
    std::exception_ptr failure;
    std::mutex failure_mutex;
    const std::size_t share = (pending.size() + threads - 1) / threads;
    for (std::size_t t = 1; t < threads; ++t) {
        workers.emplace_back([&, t] {
            try {
                sign_range(std::min(t * share, pending.size()),
                           std::min((t + 1) * share, pending.size()));
            } catch (...) {
                std::lock_guard<std::mutex> lock(failure_mutex);
                failure = std::current_exception();
            }
        });
    }
    try {
        sign_range(0, std::min(share, pending.size()));
    } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        failure = std::current_exception();
    }
    for (auto& worker : workers) worker.join();
    if (failure) std::rethrow_exception(failure);
    return out;
}

// The addresses a policy names: each once, in the store's order (DP name), only what every
// agent accepts, at most kMaxPolicySources — a policy the agents would refuse is never signed.
std::vector<std::string> sources_of(const std::vector<std::string>& urls) {
    std::vector<std::string> out;
    for (const auto& url : urls) {
        if (out.size() == kMaxPolicySources) break;
        if (is_source_url(url) && std::find(out.begin(), out.end(), url) == out.end())
            out.push_back(url);
    }
    return out;
}

}  // namespace

std::int64_t PolicyBuilder::build(const std::vector<PolicyTarget>& targets, std::int64_t now) {
    const auto publishers = store_.publishers();
    std::vector<Pending> pending;
    for (const auto& target : targets) {
        if (!target.active) continue;
        Policy policy;
        policy.client_id = target.uid;
        policy.publishers = publishers;
        policy.advertisements = store_.advertisements_for(target.client_id);
        policy.sources = sources_of(store_.sources_for(target.client_id));
        // What the policy says, without version and times: unchanged content keeps its bytes.
        const std::string unversioned = policy.to_json();
        std::string content = hash_bytes(unversioned.data(), unversioned.size());
        const auto current = store_.current(target.client_id);
        if (current && current->content == content &&
            current->expires_at > now + kPolicyRenewBefore)
            continue;
        policy.version = current ? current->version + 1 : 1;
        policy.issued_at = now;
        policy.expires_at = now + kPolicyLifetime;
        pending.push_back({target, std::move(policy), std::move(content)});
    }
    std::vector<StoredPolicy> signed_policies = sign_all(pending, site_key_);
    std::vector<std::pair<PolicyTarget, StoredPolicy>> fresh;
    for (std::size_t i = 0; i < pending.size(); ++i)
        fresh.emplace_back(pending[i].target, std::move(signed_policies[i]));
    store_.save(fresh, now);
    return static_cast<std::int64_t>(fresh.size());
}

}  // namespace ferry::server
