#include "agent_state.h"

namespace ferry::agent {

namespace {

const std::vector<sql::Migration>& migrations() {
    static const std::vector<sql::Migration> steps = {
        {"the agent's state",
         R"(CREATE TABLE enrolment (
              id INTEGER PRIMARY KEY CHECK (id = 1),
              server TEXT NOT NULL, client_id TEXT NOT NULL, token TEXT NOT NULL,
              site_public_key TEXT NOT NULL, enrolled_at INTEGER NOT NULL);
            CREATE TABLE policy (
              id INTEGER PRIMARY KEY CHECK (id = 1),
              version INTEGER NOT NULL, digest TEXT NOT NULL, json TEXT NOT NULL,
              signature TEXT NOT NULL, etag TEXT NOT NULL, accepted_at INTEGER NOT NULL);
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE advertisement (
              id TEXT PRIMARY KEY, state TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',
              postpones_used INTEGER NOT NULL DEFAULT 0,
              postponed_until INTEGER NOT NULL DEFAULT 0,
              postponed_total_s INTEGER NOT NULL DEFAULT 0,
              user_requested INTEGER NOT NULL DEFAULT 0,
              attempts INTEGER NOT NULL DEFAULT 0,
              done_object TEXT NOT NULL DEFAULT '',
              next_at INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE installed (
              name TEXT NOT NULL, version TEXT NOT NULL, object_id TEXT NOT NULL,
              manifest_json TEXT NOT NULL, signature TEXT NOT NULL,
              role TEXT NOT NULL CHECK (role IN ('current', 'previous')),
              advertisement TEXT NOT NULL, installed_at INTEGER NOT NULL,
              PRIMARY KEY (name, role));
            CREATE TABLE journal (
              id INTEGER PRIMARY KEY, operation TEXT NOT NULL, package TEXT NOT NULL,
              from_version TEXT NOT NULL, to_version TEXT NOT NULL, advertisement TEXT NOT NULL,
              step TEXT NOT NULL, started_at INTEGER NOT NULL);
            CREATE TABLE outbox (
              seq INTEGER PRIMARY KEY AUTOINCREMENT, advertisement TEXT NOT NULL,
              state TEXT NOT NULL, exit_code INTEGER, log_tail TEXT NOT NULL, at INTEGER NOT NULL,
              sent INTEGER NOT NULL DEFAULT 0);
            CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent = 0;
            CREATE TABLE cache (
              object_id TEXT PRIMARY KEY, package TEXT NOT NULL, version TEXT NOT NULL,
              size INTEGER NOT NULL, last_used INTEGER NOT NULL);
            CREATE TABLE inventory (
              id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, json TEXT NOT NULL);)"},
    };
    return steps;
}

std::string meta_value(sql::Database& db, const std::string& key) {
    auto get = db.cached("SELECT value FROM meta WHERE key = ?1");
    get->bind(1, key);
    return get->step() ? get->column_text(0) : std::string();
}

void put_meta(sql::Database& db, const std::string& key, const std::string& value) {
    auto put = db.cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    put->bind(1, key).bind(2, value).run();
}

AdvertisementRecord advertisement_from(sql::Statement& row) {
    AdvertisementRecord r;
    r.id = row.column_text(0);
    r.state = row.column_text(1);
    r.detail = row.column_text(2);
    r.postpones_used = static_cast<int>(row.column_int64(3));
    r.postponed_until = row.column_int64(4);
    r.postponed_total_s = row.column_int64(5);
    r.user_requested = row.column_int64(6) != 0;
    r.attempts = static_cast<int>(row.column_int64(7));
    r.done_object = row.column_text(8);
    r.next_at = row.column_int64(9);
    return r;
}

constexpr const char* kAdvertisementColumns =
    "id, state, detail, postpones_used, postponed_until, postponed_total_s, user_requested, "
    "attempts, done_object, next_at";

InstalledVersion version_from(sql::Statement& row) {
    InstalledVersion v;
    v.name = row.column_text(0);
    v.version = row.column_text(1);
    v.object_id = row.column_text(2);
    v.manifest_json = row.column_text(3);
    v.signature = row.column_text(4);
    v.role = row.column_text(5);
    v.advertisement = row.column_text(6);
    v.installed_at = row.column_int64(7);
    return v;
}

constexpr const char* kVersionColumns =
    "name, version, object_id, manifest_json, signature, role, advertisement, installed_at";

}  // namespace

AgentState::AgentState(const std::string& path) : db_(path) {
    // Every journal step must be on disk before the step is taken, power cut included.
    db_.exec("PRAGMA synchronous = FULL");
    db_.migrate(migrations());
}

std::optional<Enrolment> AgentState::enrolment() {
    auto row =
        db_.cached("SELECT server, client_id, token, site_public_key, enrolled_at FROM enrolment");
    if (!row->step()) return std::nullopt;
    return Enrolment{row->column_text(0), row->column_text(1),  row->column_text(2),
                     row->column_text(3), row->column_int64(4), ""};
}

void AgentState::save_enrolment(const Enrolment& e) {
    db_.cached(
           "INSERT INTO enrolment (id, server, client_id, token, site_public_key, enrolled_at) "
           "VALUES (1, ?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET server = "
           "excluded.server, "
           "client_id = excluded.client_id, token = excluded.token, "
           "site_public_key = excluded.site_public_key, enrolled_at = excluded.enrolled_at")
        ->bind(1, e.server)
        .bind(2, e.client_id)
        .bind(3, e.token)
        .bind(4, e.site_public_key)
        .bind(5, e.enrolled_at)
        .run();
}

std::optional<StoredPolicy> AgentState::policy() {
    auto row = db_.cached(
        "SELECT version, digest, json, signature, etag, accepted_at FROM policy WHERE id = 1");
    if (!row->step()) return std::nullopt;
    return StoredPolicy{static_cast<std::uint64_t>(row->column_int64(0)),
                        row->column_text(1),
                        row->column_text(2),
                        row->column_text(3),
                        row->column_text(4),
                        row->column_int64(5)};
}

void AgentState::save_policy(const StoredPolicy& p) {
    db_.cached(
           "INSERT INTO policy (id, version, digest, json, signature, etag, accepted_at) "
           "VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET "
           "version = excluded.version, digest = excluded.digest, json = excluded.json, "
           "signature = excluded.signature, etag = excluded.etag, "
           "accepted_at = excluded.accepted_at")
        ->bind(1, static_cast<std::int64_t>(p.version))
        .bind(2, p.digest)
        .bind(3, p.json)
        .bind(4, p.signature)
        .bind(5, p.etag)
        .bind(6, p.accepted_at)
        .run();
}

std::string AgentState::meta(const std::string& key) { return meta_value(db_, key); }

void AgentState::set_meta(const std::string& key, const std::string& value) {
    put_meta(db_, key, value);
}

void AgentState::set_policy_refusal(const std::string& reason, std::int64_t at) {
    sql::Transaction tx(db_);
    put_meta(db_, "policy_refusal", reason);
    put_meta(db_, "policy_refusal_at", std::to_string(at));
    tx.commit();
}

std::pair<std::string, std::int64_t> AgentState::policy_refusal() {
    const std::string at = meta_value(db_, "policy_refusal_at");
    return {meta_value(db_, "policy_refusal"), at.empty() ? 0 : std::stoll(at)};
}

std::optional<AdvertisementRecord> AgentState::advertisement(const std::string& id) {
    auto row = db_.cached(std::string("SELECT ") + kAdvertisementColumns +
                          " FROM advertisement WHERE id = ?1");
    row->bind(1, id);
    if (!row->step()) return std::nullopt;
    return advertisement_from(*row);
}

std::vector<AdvertisementRecord> AgentState::advertisements() {
    auto row = db_.cached(std::string("SELECT ") + kAdvertisementColumns +
                          " FROM advertisement ORDER BY id");
    std::vector<AdvertisementRecord> all;
    while (row->step()) all.push_back(advertisement_from(*row));
    return all;
}

void AgentState::save_advertisement(const AdvertisementRecord& r) {
    db_.cached(
           "INSERT INTO advertisement (id, state, detail, postpones_used, postponed_until, "
           "postponed_total_s, user_requested, attempts, done_object, next_at) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO UPDATE SET "
           "state = excluded.state, detail = excluded.detail, "
           "postpones_used = excluded.postpones_used, postponed_until = excluded.postponed_until, "
           "postponed_total_s = excluded.postponed_total_s, "
           "user_requested = excluded.user_requested, attempts = excluded.attempts, "
           "done_object = excluded.done_object, next_at = excluded.next_at")
        ->bind(1, r.id)
        .bind(2, r.state)
        .bind(3, r.detail)
        .bind(4, r.postpones_used)
        .bind(5, r.postponed_until)
        .bind(6, r.postponed_total_s)
        .bind(7, r.user_requested ? 1 : 0)
        .bind(8, r.attempts)
        .bind(9, r.done_object)
        .bind(10, r.next_at)
        .run();
}

std::vector<InstalledVersion> AgentState::versions(const std::string& package) {
    auto row = db_.cached(std::string("SELECT ") + kVersionColumns +
                          " FROM installed WHERE name = ?1 ORDER BY role");
    row->bind(1, package);
    std::vector<InstalledVersion> all;
    while (row->step()) all.push_back(version_from(*row));
    return all;
}

std::optional<InstalledVersion> AgentState::version(const std::string& package,
                                                    const std::string& role) {
    auto row = db_.cached(std::string("SELECT ") + kVersionColumns +
                          " FROM installed WHERE name = ?1 AND role = ?2");
    row->bind(1, package).bind(2, role);
    if (!row->step()) return std::nullopt;
    return version_from(*row);
}

std::vector<InstalledVersion> AgentState::all_versions() {
    auto row = db_.cached(std::string("SELECT ") + kVersionColumns +
                          " FROM installed ORDER BY name, role");
    std::vector<InstalledVersion> all;
    while (row->step()) all.push_back(version_from(*row));
    return all;
}

void AgentState::set_versions(const std::string& package,
                              const std::vector<InstalledVersion>& rows) {
    db_.cached("DELETE FROM installed WHERE name = ?1")->bind(1, package).run();
    for (const auto& v : rows) {
        db_.cached(
               "INSERT INTO installed (name, version, object_id, manifest_json, signature, role, "
               "advertisement, installed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
            ->bind(1, package)
            .bind(2, v.version)
            .bind(3, v.object_id)
            .bind(4, v.manifest_json)
            .bind(5, v.signature)
            .bind(6, v.role)
            .bind(7, v.advertisement)
            .bind(8, v.installed_at)
            .run();
    }
}

std::optional<JournalEntry> AgentState::open_journal() {
    auto row = db_.cached(
        "SELECT id, operation, package, from_version, to_version, advertisement, step, "
        "started_at FROM journal ORDER BY id LIMIT 1");
    if (!row->step()) return std::nullopt;
    return JournalEntry{row->column_int64(0), row->column_text(1), row->column_text(2),
                        row->column_text(3),  row->column_text(4), row->column_text(5),
                        row->column_text(6),  row->column_int64(7)};
}

std::int64_t AgentState::begin_journal(const JournalEntry& e) {
    db_.cached(
           "INSERT INTO journal (operation, package, from_version, to_version, advertisement, "
           "step, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        ->bind(1, e.operation)
        .bind(2, e.package)
        .bind(3, e.from_version)
        .bind(4, e.to_version)
        .bind(5, e.advertisement)
        .bind(6, e.step)
        .bind(7, e.started_at)
        .run();
    return db_.last_insert_rowid();
}

void AgentState::journal_step(std::int64_t id, const std::string& step) {
    db_.cached("UPDATE journal SET step = ?2 WHERE id = ?1")->bind(1, id).bind(2, step).run();
}

void AgentState::end_journal(std::int64_t id) {
    db_.cached("DELETE FROM journal WHERE id = ?1")->bind(1, id).run();
}

std::int64_t AgentState::queue_status(const StatusMessage& m) {
    db_.cached(
           "INSERT INTO outbox (advertisement, state, exit_code, log_tail, at) "
           "VALUES (?1, ?2, ?3, ?4, ?5)")
        ->bind(1, m.advertisement)
        .bind(2, m.state)
        .bind(3, m.exit_code)
        .bind(4, m.log_tail)
        .bind(5, m.at)
        .run();
    return db_.last_insert_rowid();
}

std::vector<StatusMessage> AgentState::unsent_status(std::size_t limit) {
    auto row = db_.cached(
        "SELECT seq, advertisement, state, exit_code, log_tail, at FROM outbox "
        "WHERE sent = 0 ORDER BY seq LIMIT ?1");
    row->bind(1, static_cast<std::int64_t>(limit));
    std::vector<StatusMessage> all;
    while (row->step()) {
        StatusMessage m;
        m.seq = row->column_int64(0);
        m.advertisement = row->column_text(1);
        m.state = row->column_text(2);
        if (!row->column_is_null(3)) m.exit_code = static_cast<int>(row->column_int64(3));
        m.log_tail = row->column_text(4);
        m.at = row->column_int64(5);
        all.push_back(std::move(m));
    }
    return all;
}

void AgentState::mark_sent(std::int64_t up_to_seq) {
    db_.cached("UPDATE outbox SET sent = 1 WHERE sent = 0 AND seq <= ?1")->bind(1, up_to_seq).run();
}

void AgentState::prune_outbox(std::int64_t keep) {
    db_.cached("DELETE FROM outbox WHERE sent != 0 AND seq < (SELECT max(seq) FROM outbox) - ?1")
        ->bind(1, keep)
        .run();
}

std::int64_t AgentState::unsent_count() {
    auto row = db_.cached("SELECT count(*) FROM outbox WHERE sent = 0");
    row->step();
    return row->column_int64(0);
}

std::vector<CachedObject> AgentState::cached_objects() {
    auto row = db_.cached(
        "SELECT object_id, package, version, size, last_used FROM cache ORDER BY last_used");
    std::vector<CachedObject> all;
    while (row->step())
        all.push_back({row->column_text(0), row->column_text(1), row->column_text(2),
                       static_cast<std::uint64_t>(row->column_int64(3)), row->column_int64(4)});
    return all;
}

void AgentState::touch_cached(const CachedObject& o) {
    db_.cached(
           "INSERT INTO cache (object_id, package, version, size, last_used) "
           "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (object_id) DO UPDATE SET "
           "last_used = excluded.last_used")
        ->bind(1, o.object_id)
        .bind(2, o.package)
        .bind(3, o.version)
        .bind(4, static_cast<std::int64_t>(o.size))
        .bind(5, o.last_used)
        .run();
}

void AgentState::forget_cached(const std::string& object_id) {
    db_.cached("DELETE FROM cache WHERE object_id = ?1")->bind(1, object_id).run();
}

std::pair<std::int64_t, std::string> AgentState::reported_inventory() {
    auto row = db_.cached("SELECT seq, json FROM inventory WHERE id = 1");
    if (!row->step()) return {0, ""};
    return {row->column_int64(0), row->column_text(1)};
}

void AgentState::save_reported_inventory(std::int64_t seq, const std::string& json) {
    db_.cached(
           "INSERT INTO inventory (id, seq, json) VALUES (1, ?1, ?2) "
           "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, json = excluded.json")
        ->bind(1, seq)
        .bind(2, json)
        .run();
}

std::int64_t AgentState::next_inventory_seq() {
    // Never reused, even for a report the site never acknowledged: its seq may have landed.
    sql::Transaction tx(db_);
    const std::string last = meta_value(db_, "inventory_seq");
    const std::int64_t next = (last.empty() ? 0 : std::stoll(last)) + 1;
    put_meta(db_, "inventory_seq", std::to_string(next));
    tx.commit();
    return next;
}

}  // namespace ferry::agent
