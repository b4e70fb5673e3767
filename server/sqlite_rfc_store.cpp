#include "sqlite_rfc_store.h"

#include "ferry/error.h"
#include "sqlite_user_store.h"

namespace ferry::server {
namespace {

const char* kColumns =
    "SELECT id, title, description, business_need, risk, requester, state, needed, created_at FROM "
    "rfc ";

Rfc read_rfc(const sql::Statement& row) {
    Rfc rfc;
    rfc.id = row.column_int64(0);
    rfc.title = row.column_text(1);
    rfc.description = row.column_text(2);
    rfc.business_need = row.column_text(3);
    rfc.risk = row.column_text(4);
    rfc.requester = row.column_text(5);
    rfc.state = row.column_text(6);
    rfc.needed = static_cast<int>(row.column_int64(7));
    rfc.created_at = row.column_int64(8);
    return rfc;
}

}  // namespace

std::int64_t SqliteRfcStore::create(const Rfc& rfc, const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    db_.prepare(
           "INSERT INTO rfc (title, description, business_need, risk, requester, state, needed, "
           "created_at)"
           " VALUES (?, ?, ?, ?, ?, 'submitted', ?, ?)")
        .bind(1, rfc.title)
        .bind(2, rfc.description)
        .bind(3, rfc.business_need)
        .bind(4, rfc.risk)
        .bind(5, rfc.requester)
        .bind(6, rfc.needed)
        .bind(7, rfc.created_at)
        .run();
    const std::int64_t id = db_.last_insert_rowid();
    ChangeLogEntry logged = entry;
    logged.subject = rfc_number(id) + " " + entry.subject;
    append_changelog(db_, logged);
    transaction.commit();
    return id;
}

std::vector<RfcVote> SqliteRfcStore::votes_of(std::int64_t id) {
    sql::Statement rows = db_.prepare(
        "SELECT voter, decision, reason, at FROM rfc_vote WHERE rfc_id = ? ORDER BY at, voter");
    rows.bind(1, id);
    std::vector<RfcVote> votes;
    while (rows.step())
        votes.push_back(
            {rows.column_text(0), rows.column_text(1), rows.column_text(2), rows.column_int64(3)});
    return votes;
}

std::vector<std::string> SqliteRfcStore::releases_of(std::int64_t id) {
    sql::Statement rows = db_.prepare(
        "SELECT r.reference FROM release_rfc l JOIN release r ON r.id = l.release_id WHERE "
        "l.rfc_id = ? ORDER BY r.id");
    rows.bind(1, id);
    std::vector<std::string> out;
    while (rows.step()) out.push_back(rows.column_text(0));
    return out;
}

std::optional<Rfc> SqliteRfcStore::find(std::int64_t id) {
    sql::Statement row = db_.prepare(std::string(kColumns) + "WHERE id = ?");
    row.bind(1, id);
    if (!row.step()) return std::nullopt;
    Rfc rfc = read_rfc(row);
    rfc.votes = votes_of(id);
    rfc.releases = releases_of(id);
    return rfc;
}

std::vector<Rfc> SqliteRfcStore::list() {
    sql::Statement rows = db_.prepare(std::string(kColumns) + "ORDER BY id");
    std::vector<Rfc> out;
    while (rows.step()) out.push_back(read_rfc(rows));
    for (auto& rfc : out) {
        rfc.votes = votes_of(rfc.id);
        rfc.releases = releases_of(rfc.id);
    }
    return out;
}

void SqliteRfcStore::vote(std::int64_t id, const RfcVote& vote, const std::string& new_state,
                          const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    try {
        db_.prepare(
               "INSERT INTO rfc_vote (rfc_id, voter, decision, reason, at) VALUES (?, ?, ?, ?, ?)")
            .bind(1, id)
            .bind(2, vote.voter)
            .bind(3, vote.decision)
            .bind(4, vote.reason)
            .bind(5, vote.at)
            .run();
    } catch (const Error& e) {
        if (e.code() == ErrorCode::AlreadyExists)
            throw Error(ErrorCode::AlreadyExists,
                        vote.voter + " has already voted on " + rfc_number(id));
        throw;
    }
    // Only a submitted RFC changes state: a concurrent decision that got there first wins.
    db_.prepare("UPDATE rfc SET state = ? WHERE id = ? AND state = 'submitted'")
        .bind(1, new_state)
        .bind(2, id)
        .run();
    if (db_.changes() == 0)
        throw Error(ErrorCode::Conflict, rfc_number(id) + " was decided meanwhile");
    append_changelog(db_, entry);
    transaction.commit();
}

}  // namespace ferry::server
