// PolicyBuilder::build_all_dirty: batches signed while the next is read and the one before
// saved. Every dirty client is built once per change, versions only grow even when a client is
// marked again while its batch is being signed, and a failure leaves nothing claimed unbuilt.
#define BOOST_TEST_MODULE policy_batches
#include <boost/test/unit_test.hpp>
#include <map>
#include <stdexcept>

#include "deployment_site.h"

using namespace ferry;
using namespace ferry::server;
using ferry::test::Site;

namespace {

// The site's store, watched: what each save stores, and a hook before each claim.
struct WatchedStore : PolicyStore {
    explicit WatchedStore(PolicyStore& inner) : inner(inner) {}
    PolicyStore& inner;
    int claims = 0, saves = 0;
    std::function<void(int)> before_claim = [](int) {};
    std::function<void(int)> before_save = [](int) {};
    std::vector<std::vector<PolicyTarget>> claimed;
    std::map<std::int64_t, std::vector<std::uint64_t>> saved;  // client -> versions, in order

    void mark_expiring(std::int64_t before) override { inner.mark_expiring(before); }
    std::vector<PolicyTarget> claim_dirty(int limit) override {
        before_claim(++claims);
        claimed.push_back(inner.claim_dirty(limit));
        return claimed.back();
    }
    void remark(const std::vector<std::int64_t>& ids) override { inner.remark(ids); }
    std::vector<PublisherKey> publishers() override { return inner.publishers(); }
    std::vector<PolicyAdvertisement> advertisements_for(std::int64_t id) override {
        return inner.advertisements_for(id);
    }
    std::vector<std::string> sources_for(std::int64_t id) override { return inner.sources_for(id); }
    std::optional<StoredPolicy> current(std::int64_t id) override { return inner.current(id); }
    void save(const std::vector<std::pair<PolicyTarget, StoredPolicy>>& policies,
              std::int64_t at) override {
        before_save(++saves);
        inner.save(policies, at);
        for (const auto& [target, policy] : policies)
            saved[target.client_id].push_back(policy.version);
    }
    std::optional<StoredPolicy> by_uid(const std::string& uid) override {
        return inner.by_uid(uid);
    }
    std::optional<std::string> etag_of(const std::string& uid) override {
        return inner.etag_of(uid);
    }
};

std::vector<Client> enrol_many(Site& site, int count) {
    std::vector<Client> out;
    for (int i = 0; i < count; ++i)
        out.push_back(site.enrol("ws-" + std::to_string(i), "Debian", 4096, {}));
    return out;
}

std::int64_t dirty(Site& site) {
    sql::Statement row = site.db.prepare("SELECT count(*) FROM client WHERE policy_dirty = 1");
    row.step();
    return row.column_int64(0);
}

void check_versions_grow(const WatchedStore& store) {
    for (const auto& [client, versions] : store.saved) {
        for (std::size_t i = 1; i < versions.size(); ++i)
            BOOST_TEST(versions[i] > versions[i - 1], "client " << client << " saved version "
                                                                << versions[i] << " after "
                                                                << versions[i - 1]);
    }
}

// Every client's stored policy verifies with the site key, names the advertisement, and is at
// `version`.
void check_policies(Site& site, const std::vector<Client>& clients, std::uint64_t version) {
    for (const auto& client : clients) {
        const auto accepted = verify_policy(site.policy_of(client), site.site_key.public_key(),
                                            client.uid, AcceptedPolicy{}, site.now);
        BOOST_TEST(accepted.version == version, client.uid);
        BOOST_TEST(accepted.advertisements.size() == 1u, client.uid);
    }
}

// `count` clients with their first policy, then an advertisement to all of them a minute
// later: every client is dirty, and its next policy is version 2.
std::vector<Client> with_first_policies_then_advertised(Site& site, int count) {
    const auto clients = enrol_many(site, count);
    site.builder.build_dirty(site.now, 1000);
    site.collection("all", std::string("has os.name"), {}, true);
    site.release_to("testing");
    site.ads.create(site.rita, site.hello_on("all"));
    site.now += 60;
    return clients;
}

auto always = [] { return true; };

std::vector<std::int64_t> ids(const std::vector<PolicyTarget>& targets) {
    std::vector<std::int64_t> out;
    for (const auto& target : targets) out.push_back(target.client_id);
    return out;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(EveryDirtyClientIsBuiltOnceInOverlappingBatches, Site) {
    const auto clients = enrol_many(*this, 150);
    WatchedStore store(policy_store);
    PolicyBuilder batches(store, site_key);
    BOOST_TEST(batches.build_all_dirty(clock, always, 16).issued == 150);
    BOOST_TEST(store.claims == 11);  // ten batches, then none left
    BOOST_TEST(dirty(*this) == 0);

    collection("all", std::string("has os.name"), {}, true);
    release_to("testing");
    ads.create(rita, hello_on("all"));
    now += 60;
    const auto outcome = batches.build_all_dirty(clock, always, 16);
    BOOST_TEST(outcome.examined == 150);
    BOOST_TEST(outcome.issued == 150);
    check_policies(*this, clients, 2);
    check_versions_grow(store);
    for (const auto& client : clients) BOOST_TEST(store.saved[client.id].size() == 2u);
    // Told to stop: nothing is taken.
    db.exec("UPDATE client SET policy_dirty = 1");
    BOOST_TEST(batches
                   .build_all_dirty(
                       clock, [] { return false; }, 16)
                   .examined == 0);
    BOOST_TEST(dirty(*this) == 150);
}

// A client of the batch being signed is marked again (a change arrived): its next policy is
// read only once that batch is saved, so no version is issued twice.
BOOST_FIXTURE_TEST_CASE(AClientMarkedAgainWhileItsBatchIsSignedGetsNoVersionTwice, Site) {
    const auto clients = with_first_policies_then_advertised(*this, 40);
    WatchedStore store(policy_store);
    // Before the second claim, the first batch's clients are marked again: claimed in id
    // order, they are the second batch too.
    store.before_claim = [&](int claim) {
        if (claim == 2) policy_store.remark(ids(store.claimed.front()));
    };
    PolicyBuilder batches(store, site_key);
    batches.build_all_dirty(clock, always, 10);
    BOOST_TEST(store.claimed.at(1).front().client_id == store.claimed.at(0).front().client_id);
    check_versions_grow(store);
    check_policies(*this, clients, 2);
    for (const auto& client : clients) BOOST_TEST(store.saved[client.id].size() == 1u);
    BOOST_TEST(dirty(*this) == 0);
}

// A save that fails: its batch and the one being signed behind it are marked again, the error
// reaches the caller, and the next build finishes the work with one version each.
BOOST_FIXTURE_TEST_CASE(AFailedBatchLeavesEveryUnsavedClientDirty, Site) {
    const auto clients = with_first_policies_then_advertised(*this, 50);
    WatchedStore store(policy_store);
    store.before_save = [](int save) {
        if (save == 2) throw std::runtime_error("disk full");
    };
    PolicyBuilder batches(store, site_key);
    BOOST_CHECK_THROW(batches.build_all_dirty(clock, always, 10), std::runtime_error);
    // The first batch is saved; the second failed and the third was being signed.
    BOOST_TEST(store.saved.size() == 10u);
    BOOST_TEST(dirty(*this) == 40);
    store.before_save = [](int) {};
    BOOST_TEST(batches.build_all_dirty(clock, always, 10).issued == 40);
    check_policies(*this, clients, 2);
    check_versions_grow(store);
    BOOST_TEST(dirty(*this) == 0);
}
