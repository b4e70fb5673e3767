#include "dp_node_state.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <map>

#include "ferry/error.h"
#include "ferry/json.h"
#include "ferry/policy.h"

namespace ferry::server {

namespace {

const std::vector<sql::Migration>& dp_migrations() {
    static const std::vector<sql::Migration> steps = {
        {"a distribution point's state",
         R"(CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE client (
              id TEXT PRIMARY KEY, token_digest TEXT NOT NULL, state TEXT NOT NULL,
              policy_stale INTEGER NOT NULL DEFAULT 0,
              needs_full_inventory INTEGER NOT NULL DEFAULT 0);
            CREATE INDEX client_digest ON client (token_digest);
            CREATE TABLE policy (
              client_id TEXT PRIMARY KEY, version INTEGER NOT NULL, etag TEXT NOT NULL,
              envelope TEXT NOT NULL, objects TEXT NOT NULL);
            CREATE TABLE report_queue (
              id INTEGER PRIMARY KEY AUTOINCREMENT, client_id TEXT NOT NULL,
              kind TEXT NOT NULL, body TEXT NOT NULL, received_at INTEGER NOT NULL);)"},
        {"the library's objects, for a replica",
         R"(CREATE TABLE library_object (id TEXT PRIMARY KEY, size INTEGER NOT NULL);)"},
    };
    return steps;
}

// "ID SIZE" lines of the objects a policy's advertisements name, kept beside the envelope so
// that the wanted set is a query, not a re-parse of every policy.
std::string objects_of(const std::string& envelope) {
    const auto outer = json::parse_object(envelope, "policy envelope", kMaxPolicyBytes);
    const std::string text = outer->getValue<std::string>("policy");
    const auto policy = json::parse_object(text, "policy", kMaxPolicyBytes);
    std::string lines;
    const auto ads = policy->getArray("advertisements");
    for (std::size_t i = 0; ads && i < ads->size(); ++i) {
        const auto ad = ads->getObject(static_cast<unsigned>(i));
        if (!ad || ad->optValue<std::string>("action", "") != "install") continue;
        lines += ad->getValue<std::string>("object_id") + " " +
                 std::to_string(ad->getValue<Poco::UInt64>("size")) + "\n";
    }
    return lines;
}

}  // namespace

DpNodeState::DpNodeState(const std::string& path)
    : owned_(std::make_unique<sql::Database>(path)), db_(owned_.get()) {
    db_->migrate(dp_migrations());
}

std::string DpNodeState::meta(const std::string& key) {
    auto row = db_->cached("SELECT value FROM meta WHERE key = ?1");
    row->bind(1, key);
    return row->step() ? row->column_text(0) : std::string();
}

void DpNodeState::set_meta(const std::string& key, const std::string& value) {
    db_->cached(
           "INSERT INTO meta (key, value) VALUES (?1, ?2) "
           "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        ->bind(1, key)
        .bind(2, value)
        .run();
}

std::int64_t DpNodeState::feed_cursor() {
    const std::string value = meta("feed_cursor");
    return value.empty() ? 0 : std::stoll(value);
}

void DpNodeState::set_feed_cursor(std::int64_t seq) {
    set_meta("feed_cursor", std::to_string(seq));
}

void DpNodeState::put_client(const std::string& id, const std::string& token_digest,
                             const std::string& state) {
    db_->cached(
           "INSERT INTO client (id, token_digest, state) VALUES (?1, ?2, ?3) "
           "ON CONFLICT (id) DO UPDATE SET token_digest = excluded.token_digest, "
           "state = excluded.state")
        ->bind(1, id)
        .bind(2, token_digest)
        .bind(3, state)
        .run();
}

std::optional<std::string> DpNodeState::client_by_digest(const std::string& digest) {
    auto row = db_->cached("SELECT id FROM client WHERE token_digest = ?1 AND state = 'active'");
    row->bind(1, digest);
    if (!row->step()) return std::nullopt;
    return row->column_text(0);
}

void DpNodeState::mark_policy_stale(const std::string& client_id) {
    // A policy may name a client the feed has not introduced yet: it waits with no token.
    db_->cached(
           "INSERT INTO client (id, token_digest, state, policy_stale) VALUES (?1, '', 'unknown', "
           "1) "
           "ON CONFLICT (id) DO UPDATE SET policy_stale = 1")
        ->bind(1, client_id)
        .run();
}

std::vector<std::string> DpNodeState::stale_policies(std::size_t limit) {
    auto row = db_->cached("SELECT id FROM client WHERE policy_stale = 1 ORDER BY id LIMIT ?1");
    row->bind(1, static_cast<std::int64_t>(limit));
    std::vector<std::string> ids;
    while (row->step()) ids.push_back(row->column_text(0));
    return ids;
}

void DpNodeState::put_policy(const DpPolicy& p) {
    const std::string objects = objects_of(p.envelope);
    sql::Transaction tx(*db_);
    db_->cached(
           "INSERT INTO policy (client_id, version, etag, envelope, objects) "
           "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (client_id) DO UPDATE SET "
           "version = excluded.version, etag = excluded.etag, envelope = excluded.envelope, "
           "objects = excluded.objects")
        ->bind(1, p.client_id)
        .bind(2, static_cast<std::int64_t>(p.version))
        .bind(3, p.etag)
        .bind(4, p.envelope)
        .bind(5, objects)
        .run();
    db_->cached("UPDATE client SET policy_stale = 0 WHERE id = ?1")->bind(1, p.client_id).run();
    tx.commit();
}

void DpNodeState::put_client_policy_gone(const std::string& client_id) {
    sql::Transaction tx(*db_);
    db_->cached("DELETE FROM policy WHERE client_id = ?1")->bind(1, client_id).run();
    db_->cached("UPDATE client SET policy_stale = 0 WHERE id = ?1")->bind(1, client_id).run();
    tx.commit();
}

std::optional<DpPolicy> DpNodeState::policy(const std::string& client_id) {
    auto row = db_->cached("SELECT version, etag, envelope FROM policy WHERE client_id = ?1");
    row->bind(1, client_id);
    if (!row->step()) return std::nullopt;
    return DpPolicy{client_id, static_cast<std::uint64_t>(row->column_int64(0)),
                    row->column_text(1), row->column_text(2)};
}

std::vector<WantedObject> DpNodeState::wanted_objects() {
    std::map<std::string, std::uint64_t> wanted;
    auto row = db_->cached("SELECT objects FROM policy");
    while (row->step()) {
        const std::string lines = row->column_text(0);
        std::size_t start = 0;
        while (start < lines.size()) {
            const auto end = lines.find('\n', start);
            const std::string line = lines.substr(start, end - start);
            const auto space = line.find(' ');
            if (space != std::string::npos)
                wanted[line.substr(0, space)] = std::stoull(line.substr(space + 1));
            start = end == std::string::npos ? lines.size() : end + 1;
        }
    }
    std::vector<WantedObject> all;
    for (const auto& [id, size] : wanted) all.push_back({id, size});
    return all;
}

void DpNodeState::put_library_object(const std::string& id, std::uint64_t size) {
    db_->cached("INSERT OR REPLACE INTO library_object (id, size) VALUES (?1, ?2)")
        ->bind(1, id)
        .bind(2, static_cast<std::int64_t>(size))
        .run();
}

std::vector<WantedObject> DpNodeState::library_objects() {
    auto row = db_->cached("SELECT id, size FROM library_object ORDER BY id");
    std::vector<WantedObject> all;
    while (row->step())
        all.push_back({row->column_text(0), static_cast<std::uint64_t>(row->column_int64(1))});
    return all;
}

std::int64_t DpNodeState::queue_report(const std::string& client_id, const std::string& kind,
                                       const std::string& body, std::int64_t now) {
    db_->cached(
           "INSERT INTO report_queue (client_id, kind, body, received_at) VALUES (?1, ?2, ?3, ?4)")
        ->bind(1, client_id)
        .bind(2, kind)
        .bind(3, body)
        .bind(4, now)
        .run();
    return db_->last_insert_rowid();
}

std::vector<QueuedReport> DpNodeState::queued(std::size_t limit) {
    auto row = db_->cached(
        "SELECT id, client_id, kind, body, received_at FROM report_queue ORDER BY id LIMIT ?1");
    row->bind(1, static_cast<std::int64_t>(limit));
    std::vector<QueuedReport> all;
    while (row->step())
        all.push_back({row->column_int64(0), row->column_text(1), row->column_text(2),
                       row->column_text(3), row->column_int64(4)});
    return all;
}

void DpNodeState::forget_reports(const std::vector<std::int64_t>& ids) {
    sql::Transaction tx(*db_);
    for (const auto id : ids)
        db_->cached("DELETE FROM report_queue WHERE id = ?1")->bind(1, id).run();
    tx.commit();
}

std::int64_t DpNodeState::queue_length() {
    auto row = db_->cached("SELECT count(*) FROM report_queue");
    row->step();
    return row->column_int64(0);
}

void DpNodeState::set_needs_full_inventory(const std::string& client_id, bool needs) {
    db_->cached("UPDATE client SET needs_full_inventory = ?2 WHERE id = ?1")
        ->bind(1, client_id)
        .bind(2, needs ? 1 : 0)
        .run();
}

bool DpNodeState::needs_full_inventory(const std::string& client_id) {
    auto row = db_->cached("SELECT needs_full_inventory FROM client WHERE id = ?1");
    row->bind(1, client_id);
    return row->step() && row->column_int64(0) != 0;
}

}  // namespace ferry::server
