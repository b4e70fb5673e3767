#include "sqlite_dp_store.h"

#include "ferry/error.h"
#include "sqlite_user_store.h"

namespace ferry::server {
namespace {

const char* kColumns =
    "SELECT dp.name, dp.created_by, dp.created_at, dp.revoked_at, dp.last_seen_at, "
    "coalesce(dp.url, ''), coalesce(dp.report, ''), coalesce(c.name, ''), dp.schedule, "
    "dp.replica FROM dp LEFT JOIN collection c ON c.id = dp.collection_id ";

// New policies for the clients of a collection (their sources changed).
void mark_members_dirty(sql::Database& db, std::optional<std::int64_t> collection_id) {
    if (!collection_id) return;
    db.prepare(
          "UPDATE client SET policy_dirty = 1 WHERE id IN "
          "(SELECT client_id FROM collection_member WHERE collection_id = ?)")
        .bind(1, *collection_id)
        .run();
}

std::optional<std::int64_t> collection_of(sql::Database& db, const std::string& dp) {
    sql::Statement row = db.prepare("SELECT collection_id FROM dp WHERE name = ?");
    row.bind(1, dp);
    if (!row.step() || row.column_is_null(0)) return std::nullopt;
    return row.column_int64(0);
}

DistributionPoint read_dp(const sql::Statement& row) {
    DistributionPoint dp;
    dp.name = row.column_text(0);
    dp.created_by = row.column_text(1);
    dp.created_at = row.column_int64(2);
    if (!row.column_is_null(3)) dp.revoked_at = row.column_int64(3);
    if (!row.column_is_null(4)) dp.last_seen_at = row.column_int64(4);
    dp.url = row.column_text(5);
    dp.report = row.column_text(6);
    dp.collection = row.column_text(7);
    dp.schedule = row.column_text(8);
    dp.replica = row.column_int64(9) != 0;
    return dp;
}

}  // namespace

void SqliteDpStore::add(const DistributionPoint& dp, const std::string& token_digest,
                        const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    try {
        db_.prepare(
               "INSERT INTO dp (name, token_digest, created_by, created_at) VALUES (?, ?, ?, ?)")
            .bind(1, dp.name)
            .bind(2, token_digest)
            .bind(3, dp.created_by)
            .bind(4, dp.created_at)
            .run();
    } catch (const Error& e) {
        if (e.code() == ErrorCode::AlreadyExists)
            throw Error(ErrorCode::AlreadyExists,
                        "a distribution point named " + dp.name + " exists");
        throw;
    }
    append_changelog(db_, entry);
    transaction.commit();
}

std::vector<DistributionPoint> SqliteDpStore::list() {
    sql::Statement rows = db_.prepare(std::string(kColumns) + "ORDER BY dp.name");
    std::vector<DistributionPoint> out;
    while (rows.step()) out.push_back(read_dp(rows));
    return out;
}

bool SqliteDpStore::revoke(const std::string& name, std::int64_t at, const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    db_.prepare("UPDATE dp SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL")
        .bind(1, at)
        .bind(2, name)
        .run();
    if (db_.changes() == 0) return false;
    mark_members_dirty(db_, collection_of(db_, name));  // its clients lose it as a source
    append_changelog(db_, entry);
    transaction.commit();
    return true;
}

std::optional<DistributionPoint> SqliteDpStore::find_active(const std::string& token_digest,
                                                            std::int64_t now) {
    sql::Statement row =
        db_.prepare(std::string(kColumns) + "WHERE dp.token_digest = ? AND dp.revoked_at IS NULL");
    row.bind(1, token_digest);
    if (!row.step()) return std::nullopt;
    DistributionPoint dp = read_dp(row);
    if (!dp.last_seen_at || *dp.last_seen_at + 60 <= now) {
        db_.prepare("UPDATE dp SET last_seen_at = ? WHERE name = ?")
            .bind(1, now)
            .bind(2, dp.name)
            .run();
        dp.last_seen_at = now;
    }
    return dp;
}

bool SqliteDpStore::serves(const std::string& name, std::int64_t client_id) {
    auto row = db_.cached(
        "SELECT 1 FROM dp JOIN collection_member m ON m.collection_id = dp.collection_id WHERE "
        "dp.name = ?1 AND dp.revoked_at IS NULL AND m.client_id = ?2");
    row->bind(1, name).bind(2, client_id);
    return row->step();
}

std::optional<DistributionPoint> SqliteDpStore::find(const std::string& name) {
    sql::Statement row = db_.prepare(std::string(kColumns) + "WHERE dp.name = ?");
    row.bind(1, name);
    if (!row.step()) return std::nullopt;
    return read_dp(row);
}

void SqliteDpStore::record_report(const std::string& name, const std::string& url,
                                  const std::string& report, std::int64_t now,
                                  const std::optional<ChangeLogEntry>& url_changed) {
    sql::Transaction transaction(db_);
    db_.prepare("UPDATE dp SET url = ?, report = ?, last_seen_at = ? WHERE name = ?")
        .bind(1, url)
        .bind(2, report)
        .bind(3, now)
        .bind(4, name)
        .run();
    if (url_changed) {
        append_changelog(db_, *url_changed);
        mark_members_dirty(db_, collection_of(db_, name));
    }
    transaction.commit();
}

void SqliteDpStore::assign(const std::string& name, const std::string& collection,
                           const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    std::optional<std::int64_t> target;
    if (!collection.empty()) {
        sql::Statement row = db_.prepare("SELECT id FROM collection WHERE name = ?");
        row.bind(1, collection);
        if (!row.step())
            throw Error(ErrorCode::NotFound, "no collection " + collection.substr(0, 64));
        target = row.column_int64(0);
    }
    mark_members_dirty(db_, collection_of(db_, name));
    db_.prepare("UPDATE dp SET collection_id = ? WHERE name = ?")
        .bind(1, target)
        .bind(2, name)
        .run();
    mark_members_dirty(db_, target);
    append_changelog(db_, entry);
    transaction.commit();
}

void SqliteDpStore::set_schedule(const std::string& name, const std::string& schedule,
                                 const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    db_.prepare("UPDATE dp SET schedule = ? WHERE name = ?").bind(1, schedule).bind(2, name).run();
    append_changelog(db_, entry);
    transaction.commit();
}

void SqliteDpStore::set_replica(const std::string& name, bool replica,
                                const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    db_.prepare("UPDATE dp SET replica = ? WHERE name = ?")
        .bind(1, replica ? 1 : 0)
        .bind(2, name)
        .run();
    append_changelog(db_, entry);
    transaction.commit();
}

}  // namespace ferry::server
