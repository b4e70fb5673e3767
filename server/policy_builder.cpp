#include "policy_builder.h"

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

std::int64_t PolicyBuilder::build(const std::vector<PolicyTarget>& targets, std::int64_t now) {
    const auto publishers = store_.publishers();
    std::vector<std::pair<PolicyTarget, StoredPolicy>> fresh;
    for (const auto& target : targets) {
        if (!target.active) continue;
        Policy policy;
        policy.client_id = target.uid;
        policy.publishers = publishers;
        policy.advertisements = store_.advertisements_for(target.client_id);
        // What the policy says, without version and times: unchanged content keeps its bytes.
        const std::string unversioned = policy.to_json();
        const std::string content = hash_bytes(unversioned.data(), unversioned.size());
        const auto current = store_.current(target.client_id);
        if (current && current->content == content &&
            current->expires_at > now + kPolicyRenewBefore)
            continue;
        policy.version = current ? current->version + 1 : 1;
        policy.issued_at = now;
        policy.expires_at = now + kPolicyLifetime;
        const SignedPolicy signed_policy = sign_policy(policy, site_key_);
        StoredPolicy stored;
        stored.version = policy.version;
        stored.content = content;
        stored.json = signed_policy.json;
        stored.signature = signed_policy.signature;
        stored.etag = policy_etag(policy.version, stored.json);
        stored.expires_at = policy.expires_at;
        fresh.emplace_back(target, std::move(stored));
    }
    store_.save(fresh, now);
    return static_cast<std::int64_t>(fresh.size());
}

}  // namespace ferry::server
