#include "sqlite_dp_store.h"

#include "ferry/error.h"
#include "sqlite_user_store.h"

namespace ferry::server {
namespace {

const char* kColumns = "SELECT name, created_by, created_at, revoked_at, last_seen_at FROM dp ";

DistributionPoint read_dp(const sql::Statement& row) {
    DistributionPoint dp;
    dp.name = row.column_text(0);
    dp.created_by = row.column_text(1);
    dp.created_at = row.column_int64(2);
    if (!row.column_is_null(3)) dp.revoked_at = row.column_int64(3);
    if (!row.column_is_null(4)) dp.last_seen_at = row.column_int64(4);
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
    sql::Statement rows = db_.prepare(std::string(kColumns) + "ORDER BY name");
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
    append_changelog(db_, entry);
    transaction.commit();
    return true;
}

std::optional<DistributionPoint> SqliteDpStore::find_active(const std::string& token_digest,
                                                            std::int64_t now) {
    sql::Statement row =
        db_.prepare(std::string(kColumns) + "WHERE token_digest = ? AND revoked_at IS NULL");
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

}  // namespace ferry::server
