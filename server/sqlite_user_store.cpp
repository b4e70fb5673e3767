#include "sqlite_user_store.h"

#include "ferry/error.h"

namespace ferry::server {
namespace {

User read_user(const sql::Statement& row) {
    User user;
    user.name = row.column_text(0);
    const auto role = parse_role(row.column_text(1));
    if (!role)
        throw Error(ErrorCode::Internal,
                    "user " + user.name + " has an unknown role in the database");
    user.role = *role;
    user.created_at = row.column_int64(2);
    if (!row.column_is_null(3)) user.revoked_at = row.column_int64(3);
    return user;
}

const char* kUserColumns = "SELECT name, role, created_at, revoked_at FROM user ";

}  // namespace

void append_changelog(sql::Database& db, const ChangeLogEntry& entry) {
    db.prepare(
          "INSERT INTO changelog (at, actor, action, subject, before, after) VALUES (?, ?, ?, ?, "
          "?, ?)")
        .bind(1, entry.at)
        .bind(2, entry.actor)
        .bind(3, entry.action)
        .bind(4, entry.subject)
        .bind(5, entry.before)
        .bind(6, entry.after)
        .run();
}

std::vector<std::pair<std::int64_t, ChangeLogEntry>> SqliteUserStore::changelog(
    std::int64_t since, std::int64_t after_id, int limit) {
    sql::Statement rows = db_.prepare(
        "SELECT id, at, actor, action, subject, before, after FROM changelog WHERE at >= ? AND id "
        "> ? ORDER BY id LIMIT ?");
    rows.bind(1, since).bind(2, after_id).bind(3, limit);
    std::vector<std::pair<std::int64_t, ChangeLogEntry>> out;
    while (rows.step()) {
        out.emplace_back(
            rows.column_int64(0),
            ChangeLogEntry{rows.column_int64(1), rows.column_text(2), rows.column_text(3),
                           rows.column_text(4), rows.column_is_null(5) ? "" : rows.column_text(5),
                           rows.column_is_null(6) ? "" : rows.column_text(6)});
    }
    return out;
}

void SqliteUserStore::create(const User& user, const std::string& token_digest,
                             const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    try {
        db_.prepare("INSERT INTO user (name, role, token_digest, created_at) VALUES (?, ?, ?, ?)")
            .bind(1, user.name)
            .bind(2, role_name(user.role))
            .bind(3, token_digest)
            .bind(4, user.created_at)
            .run();
    } catch (const Error& e) {
        if (e.code() == ErrorCode::AlreadyExists)
            throw Error(ErrorCode::AlreadyExists, "user " + user.name + " already exists");
        throw;
    }
    append_changelog(db_, entry);
    transaction.commit();
}

std::optional<User> SqliteUserStore::find_active_by_token_digest(const std::string& digest) {
    sql::Statement row =
        db_.prepare(std::string(kUserColumns) + "WHERE token_digest = ? AND revoked_at IS NULL");
    row.bind(1, digest);
    if (!row.step()) return std::nullopt;
    return read_user(row);
}

std::optional<User> SqliteUserStore::find(const std::string& name) {
    sql::Statement row = db_.prepare(std::string(kUserColumns) + "WHERE name = ?");
    row.bind(1, name);
    if (!row.step()) return std::nullopt;
    return read_user(row);
}

std::vector<User> SqliteUserStore::list() {
    sql::Statement rows = db_.prepare(std::string(kUserColumns) + "ORDER BY name");
    std::vector<User> users;
    while (rows.step()) users.push_back(read_user(rows));
    return users;
}

bool SqliteUserStore::revoke(const std::string& name, std::int64_t at,
                             const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    db_.prepare("UPDATE user SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL")
        .bind(1, at)
        .bind(2, name)
        .run();
    if (db_.changes() == 0) return false;
    append_changelog(db_, entry);
    transaction.commit();
    return true;
}

}  // namespace ferry::server
