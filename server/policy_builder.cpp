#include "policy_builder.h"

#include <algorithm>
#include <deque>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>

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

namespace {

// What each target's policy says now; only those whose content changed (or that must be
// renewed) are pending. Reads the store, signs nothing.
std::vector<Pending> prepare(PolicyStore& store, const std::vector<PolicyTarget>& targets,
                             std::int64_t now) {
    const auto publishers = store.publishers();
    std::vector<Pending> pending;
    for (const auto& target : targets) {
        if (!target.active) continue;
        Policy policy;
        policy.client_id = target.uid;
        policy.publishers = publishers;
        policy.advertisements = store.advertisements_for(target.client_id);
        policy.sources = sources_of(store.sources_for(target.client_id));
        // What the policy says, without version and times: unchanged content keeps its bytes.
        const std::string unversioned = policy.to_json();
        std::string content = hash_bytes(unversioned.data(), unversioned.size());
        const auto current = store.current(target.client_id);
        if (current && current->content == content &&
            current->expires_at > now + kPolicyRenewBefore)
            continue;
        policy.version = current ? current->version + 1 : 1;
        policy.issued_at = now;
        policy.expires_at = now + kPolicyLifetime;
        pending.push_back({target, std::move(policy), std::move(content)});
    }
    return pending;
}

std::int64_t save(PolicyStore& store, const std::vector<Pending>& pending,
                  std::vector<StoredPolicy> signed_policies, std::int64_t now) {
    std::vector<std::pair<PolicyTarget, StoredPolicy>> fresh;
    fresh.reserve(pending.size());
    for (std::size_t i = 0; i < pending.size(); ++i)
        fresh.emplace_back(pending[i].target, std::move(signed_policies[i]));
    store.save(fresh, now);
    return static_cast<std::int64_t>(fresh.size());
}

std::vector<std::int64_t> ids_of(const std::vector<PolicyTarget>& targets) {
    std::vector<std::int64_t> ids;
    ids.reserve(targets.size());
    for (const auto& target : targets) ids.push_back(target.client_id);
    return ids;
}

bool share_a_client(const std::vector<PolicyTarget>& a, const std::vector<PolicyTarget>& b) {
    const std::vector<std::int64_t> ids = ids_of(a);
    const std::unordered_set<std::int64_t> in_a(ids.begin(), ids.end());
    return std::any_of(b.begin(), b.end(),
                       [&](const PolicyTarget& t) { return in_a.count(t.client_id) != 0; });
}

// A claimed batch on its way: read, being signed, not yet saved.
struct Batch {
    std::vector<PolicyTarget> targets;
    std::int64_t now = 0;
    std::unique_ptr<std::vector<Pending>> pending;  // where the signing thread reads it
    std::future<std::vector<StoredPolicy>> signing;
};

}  // namespace

std::int64_t PolicyBuilder::build(const std::vector<PolicyTarget>& targets, std::int64_t now) {
    const std::vector<Pending> pending = prepare(store_, targets, now);
    return save(store_, pending, sign_all(pending, site_key_), now);
}

PolicyBuilder::Outcome PolicyBuilder::build_all_dirty(const std::function<std::int64_t()>& clock,
                                                      const std::function<bool()>& keep_going,
                                                      int limit) {
    Outcome total;
    std::deque<Batch> unsaved;  // in claim order; at most two
    auto save_oldest = [&] {
        Batch& batch = unsaved.front();
        total.issued += save(store_, *batch.pending, batch.signing.get(), batch.now);
        unsaved.pop_front();
    };
    try {
        while (keep_going()) {
            const std::int64_t now = clock();
            store_.mark_expiring(now + kPolicyRenewBefore);
            std::vector<PolicyTarget> targets = store_.claim_dirty(limit);
            if (targets.empty()) break;
            total.examined += static_cast<std::int64_t>(targets.size());
            unsaved.push_back(Batch{std::move(targets), now, nullptr, {}});
            Batch& next = unsaved.back();
            // A client of the batch before, marked again meanwhile: its policy is read once that
            // batch is saved, so that its next version follows the one being signed.
            if (unsaved.size() == 2 && share_a_client(unsaved.front().targets, next.targets))
                save_oldest();
            next.pending =
                std::make_unique<std::vector<Pending>>(prepare(store_, next.targets, now));
            next.signing = std::async(std::launch::async, [pending = next.pending.get(), this] {
                return sign_all(*pending, site_key_);
            });
            // The batch before is saved while this one is signed.
            if (unsaved.size() == 2) save_oldest();
        }
        while (!unsaved.empty()) save_oldest();
    } catch (...) {
        // Whatever was claimed and not saved is built again later.
        for (auto& batch : unsaved) {
            if (batch.signing.valid()) batch.signing.wait();  // its thread reads the batch
            store_.remark(ids_of(batch.targets));
        }
        throw;
    }
    return total;
}

}  // namespace ferry::server
