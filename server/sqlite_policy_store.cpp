#include "sqlite_policy_store.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <map>

#include "advertisement.h"

namespace ferry::server {
namespace {

std::vector<std::string> json_strings(const std::string& text) {
    std::vector<std::string> out;
    if (text == "[]") return out;  // most lists (windows): no parser for every client
    const auto list = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Array::Ptr>();
    for (std::size_t i = 0; i < list->size(); ++i)
        out.push_back(list->getElement<std::string>(static_cast<unsigned>(i)));
    return out;
}

StoredPolicy read_policy(const sql::Statement& row) {
    StoredPolicy p;
    p.version = static_cast<std::uint64_t>(row.column_int64(0));
    p.content = row.column_text(1);
    p.etag = row.column_text(2);
    p.json = row.column_text(3);
    p.signature = row.column_text(4);
    p.expires_at = row.column_int64(5);
    return p;
}

}  // namespace

void SqlitePolicyStore::mark_expiring(std::int64_t before) {
    db_.prepare(
           "UPDATE client SET policy_dirty = 1 WHERE policy_dirty = 0 AND state = 'active' AND id "
           "IN (SELECT client_id FROM client_policy WHERE expires_at < ?)")
        .bind(1, before)
        .run();
}

std::vector<PolicyTarget> SqlitePolicyStore::claim_dirty(int limit) {
    sql::Transaction transaction(db_);
    sql::Statement rows = db_.prepare(
        "SELECT id, uid, state = 'active' FROM client WHERE policy_dirty = 1 ORDER BY id LIMIT ?");
    rows.bind(1, limit);
    std::vector<PolicyTarget> out;
    while (rows.step())
        out.push_back({rows.column_int64(0), rows.column_text(1), rows.column_int64(2) != 0});
    // Claimed now, so that a change arriving while these are built marks them again.
    sql::Statement claim = db_.prepare("UPDATE client SET policy_dirty = 0 WHERE id = ?");
    for (const auto& target : out) {
        claim.bind(1, target.client_id).run();
        claim.reset();
    }
    transaction.commit();
    return out;
}

void SqlitePolicyStore::remark(const std::vector<std::int64_t>& client_ids) {
    sql::Transaction transaction(db_);
    sql::Statement mark = db_.prepare("UPDATE client SET policy_dirty = 1 WHERE id = ?");
    for (std::int64_t id : client_ids) {
        mark.bind(1, id).run();
        mark.reset();
    }
    transaction.commit();
}

std::vector<PublisherKey> SqlitePolicyStore::publishers() {
    sql::Statement rows =
        db_.prepare("SELECT name, public_key, packages FROM publisher ORDER BY name");
    std::vector<PublisherKey> out;
    while (rows.step())
        out.push_back(
            {rows.column_text(0), rows.column_text(1), json_strings(rows.column_text(2))});
    return out;
}

std::vector<std::string> SqlitePolicyStore::sources_for(std::int64_t client_id) {
    auto rows = db_.cached(
        "SELECT DISTINCT dp.url, dp.name FROM collection_member m JOIN dp ON dp.collection_id = "
        "m.collection_id WHERE m.client_id = ?1 AND dp.revoked_at IS NULL AND dp.url IS NOT NULL "
        "ORDER BY dp.name LIMIT 16");
    rows->bind(1, client_id);
    std::vector<std::string> urls;
    while (rows->step()) urls.push_back(rows->column_text(0));
    return urls;
}

namespace {

int priority_rank(const std::string& priority) {
    if (priority == "critical") return 3;
    if (priority == "high") return 2;
    if (priority == "medium") return 1;
    return 0;
}

}  // namespace

std::vector<PolicyAdvertisement> SqlitePolicyStore::advertisements_for(std::int64_t client_id) {
    // Prepared once per store: the builder asks this for every client of a batch. An
    // advertisement in a rollout reaches a client once the client's wave has started.
    if (!advertisements_)
        advertisements_ = db_.prepare(
            "SELECT a.id, p.name, p.version, p.object_id, p.size, p.signature, a.action, "
            "a.available_at, a.deadline, a.mandatory, a.postpone_max, a.postpone_max_delay, "
            "a.windows, a.state, r.priority, a.backout_of IS NOT NULL FROM collection_member m "
            "JOIN "
            "advertisement a ON "
            "a.collection_id = m.collection_id JOIN package_version p ON p.id = "
            "a.package_version_id JOIN release r ON r.id = a.release_id LEFT JOIN rollout ro ON "
            "ro.advertisement_id = a.id WHERE m.client_id = ?1 AND a.state != 'cancelled' AND "
            "(ro.id IS NULL OR EXISTS (SELECT 1 FROM rollout_client rc WHERE rc.rollout_id = "
            "ro.id AND rc.client_id = ?1 AND rc.wave <= ro.current_wave)) ORDER BY a.id");
    sql::Statement& rows = *advertisements_;
    rows.reset();
    rows.bind(1, client_id);
    // One advertisement per package (docs/operations.md, "Overlapping advertisements"): a
    // backout's, else the one whose release has the higher priority, then the newer one.
    std::vector<PolicyAdvertisement> out;
    std::map<std::string, std::pair<int, std::size_t>> chosen;  // package -> (rank, index)
    while (rows.step()) {
        PolicyAdvertisement ad;
        ad.id = advertisement_number(rows.column_int64(0));
        ad.package = rows.column_text(1);
        ad.version = rows.column_text(2);
        ad.object_id = rows.column_text(3);
        ad.size = static_cast<std::uint64_t>(rows.column_int64(4));
        ad.signature = rows.column_text(5);
        ad.action = rows.column_text(6);
        ad.available_at = rows.column_int64(7);
        if (!rows.column_is_null(8)) ad.deadline = rows.column_int64(8);
        ad.mandatory = rows.column_int64(9) != 0;
        ad.postpone_max = static_cast<int>(rows.column_int64(10));
        ad.postpone_max_delay_s = rows.column_int64(11);
        ad.windows = json_strings(rows.column_text(12));
        ad.rollout_state = rows.column_text(13);
        // A backout undoes its release everywhere: it comes before any priority.
        const int rank = rows.column_int64(15) != 0 ? 10 : priority_rank(rows.column_text(14));
        const auto it = chosen.find(ad.package);
        if (it == chosen.end()) {
            chosen[ad.package] = {rank, out.size()};
            out.push_back(std::move(ad));
        } else if (rank >= it->second.first) {  // rows come oldest first: ties go to the newer
            out[it->second.second] = std::move(ad);
            it->second.first = rank;
        }
    }
    rows.reset();
    return out;
}

std::optional<StoredPolicy> SqlitePolicyStore::current(std::int64_t client_id) {
    // Only what the builder compares: the signed bytes are not read for every client.
    if (!current_)
        current_ = db_.prepare(
            "SELECT version, content, expires_at FROM client_policy WHERE client_id = ?");
    sql::Statement& row = *current_;
    row.reset();
    row.bind(1, client_id);
    std::optional<StoredPolicy> found;
    if (row.step()) {
        found.emplace();
        found->version = static_cast<std::uint64_t>(row.column_int64(0));
        found->content = row.column_text(1);
        found->expires_at = row.column_int64(2);
    }
    row.reset();  // no read snapshot kept open between clients
    return found;
}

void SqlitePolicyStore::save(const std::vector<std::pair<PolicyTarget, StoredPolicy>>& policies,
                             std::int64_t at) {
    sql::Transaction transaction(db_);
    sql::Statement put = db_.prepare(
        "INSERT INTO client_policy (client_id, version, content, etag, json, signature, "
        "issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (client_id) DO "
        "UPDATE SET version = excluded.version, content = excluded.content, etag = "
        "excluded.etag, json = excluded.json, signature = excluded.signature, issued_at = "
        "excluded.issued_at, expires_at = excluded.expires_at");
    sql::Statement feed =
        db_.prepare("INSERT INTO feed (kind, subject, at) VALUES ('policy', ?, ?)");
    for (const auto& [target, policy] : policies) {
        put.bind(1, target.client_id)
            .bind(2, static_cast<std::int64_t>(policy.version))
            .bind(3, policy.content)
            .bind(4, policy.etag)
            .bind(5, policy.json)
            .bind(6, policy.signature)
            .bind(7, at)
            .bind(8, policy.expires_at)
            .run();
        put.reset();
        feed.bind(1, target.uid).bind(2, at).run();
        feed.reset();
    }
    transaction.commit();
}

std::optional<std::string> SqlitePolicyStore::etag_of(const std::string& uid) {
    const auto row = db_.cached(
        "SELECT p.etag FROM client_policy p JOIN client c ON c.id = p.client_id WHERE c.uid = ?");
    row->bind(1, uid);
    if (!row->step()) return std::nullopt;
    return row->column_text(0);
}

std::optional<StoredPolicy> SqlitePolicyStore::by_uid(const std::string& uid) {
    sql::Statement row = db_.prepare(
        "SELECT p.version, p.content, p.etag, p.json, p.signature, p.expires_at FROM "
        "client_policy p JOIN client c ON c.id = p.client_id WHERE c.uid = ?");
    row.bind(1, uid);
    if (!row.step()) return std::nullopt;
    return read_policy(row);
}

}  // namespace ferry::server
