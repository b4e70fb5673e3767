#include "sqlite_release_store.h"

#include <cstdio>
#include <ctime>

#include "ferry/error.h"
#include "sqlite_user_store.h"

namespace ferry::server {
namespace {

const char* kColumns =
    "SELECT id, reference, title, description, priority, state, suspended_from, review_round, "
    "closing_review, created_by, created_at, updated_at, closing_results FROM release ";

Release read_release(const sql::Statement& row) {
    Release r;
    r.id = row.column_int64(0);
    r.reference = row.column_text(1);
    r.title = row.column_text(2);
    r.description = row.column_text(3);
    r.priority = row.column_text(4);
    r.state = row.column_text(5);
    r.suspended_from = row.column_text(6);
    r.review_round = static_cast<int>(row.column_int64(7));
    r.closing_review = row.column_text(8);
    r.created_by = row.column_text(9);
    r.created_at = row.column_int64(10);
    r.updated_at = row.column_int64(11);
    r.closing_results = row.column_text(12);
    return r;
}

int utc_year(std::int64_t at) {
    const std::time_t t = static_cast<std::time_t>(at);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return tm.tm_year + 1900;
}

}  // namespace

std::int64_t SqliteReleaseStore::package_version_id(const ReleasePackage& package) {
    sql::Statement row =
        db_.prepare("SELECT id FROM package_version WHERE name = ? AND version = ?");
    row.bind(1, package.name).bind(2, package.version);
    if (!row.step())
        throw Error(ErrorCode::NotFound,
                    "no package " + package.name + "@" + package.version + " in the DSL");
    return row.column_int64(0);
}

void SqliteReleaseStore::write_packages(const Release& release) {
    for (const auto& package : release.packages) {
        db_.prepare(
               "INSERT OR IGNORE INTO release_package (release_id, package_version_id) VALUES "
               "(?, ?)")
            .bind(1, release.id)
            .bind(2, package_version_id(package))
            .run();
    }
}

Release SqliteReleaseStore::create(const Release& release, const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    const int year = utc_year(release.created_at);
    char prefix[24];
    std::snprintf(prefix, sizeof prefix, "REL-%04d-", year);
    sql::Statement last = db_.prepare("SELECT count(*) FROM release WHERE reference LIKE ? || '%'");
    last.bind(1, prefix);
    last.step();
    char reference[48];
    std::snprintf(reference, sizeof reference, "%s%04lld", prefix,
                  static_cast<long long>(last.column_int64(0) + 1));
    Release stored = release;
    stored.reference = reference;
    db_.prepare(
           "INSERT INTO release (reference, title, description, priority, state, created_by, "
           "created_at, updated_at) VALUES (?, ?, ?, ?, 'planning', ?, ?, ?)")
        .bind(1, stored.reference)
        .bind(2, stored.title)
        .bind(3, stored.description)
        .bind(4, stored.priority)
        .bind(5, stored.created_by)
        .bind(6, stored.created_at)
        .bind(7, stored.updated_at)
        .run();
    stored.id = db_.last_insert_rowid();
    for (std::int64_t rfc : stored.rfcs) {
        db_.prepare("INSERT INTO release_rfc (release_id, rfc_id) VALUES (?, ?)")
            .bind(1, stored.id)
            .bind(2, rfc)
            .run();
    }
    write_packages(stored);
    ChangeLogEntry logged = entry;
    logged.subject = stored.reference + " " + entry.subject;
    append_changelog(db_, logged);
    transaction.commit();
    return stored;
}

void SqliteReleaseStore::load_links(Release& release) {
    sql::Statement rfcs =
        db_.prepare("SELECT rfc_id FROM release_rfc WHERE release_id = ? ORDER BY rfc_id");
    rfcs.bind(1, release.id);
    while (rfcs.step()) release.rfcs.push_back(rfcs.column_int64(0));
    sql::Statement packages = db_.prepare(
        "SELECT p.name, p.version FROM release_package rp JOIN package_version p ON p.id = "
        "rp.package_version_id WHERE rp.release_id = ? ORDER BY p.name, p.id");
    packages.bind(1, release.id);
    while (packages.step())
        release.packages.push_back({packages.column_text(0), packages.column_text(1)});
    sql::Statement signoffs = db_.prepare(
        "SELECT item, decision, signer, role, note, at FROM release_signoff WHERE release_id = ? "
        "AND round = ? ORDER BY item, at, signer");
    signoffs.bind(1, release.id).bind(2, release.review_round);
    while (signoffs.step()) {
        release.signoffs.push_back({static_cast<int>(signoffs.column_int64(0)),
                                    signoffs.column_text(1), signoffs.column_text(2),
                                    signoffs.column_text(3), signoffs.column_text(4),
                                    signoffs.column_int64(5)});
    }
}

std::optional<Release> SqliteReleaseStore::find(const std::string& reference) {
    sql::Statement row = db_.prepare(std::string(kColumns) + "WHERE reference = ?");
    row.bind(1, reference);
    if (!row.step()) return std::nullopt;
    Release release = read_release(row);
    load_links(release);
    return release;
}

std::vector<Release> SqliteReleaseStore::list() {
    sql::Statement rows = db_.prepare(std::string(kColumns) + "ORDER BY id");
    std::vector<Release> out;
    while (rows.step()) out.push_back(read_release(rows));
    for (auto& release : out) load_links(release);
    return out;
}

// A suspended release's advertisements halt; a cancelled or backed-out one's are cancelled
// (they leave every policy). Their audiences get new policies.
void SqliteReleaseStore::stop_advertisements(const Release& release) {
    const bool suspended = release.state == "suspended";
    if (!suspended && release.state != "cancelled" && release.state != "backed-out") return;
    db_.prepare(
           "UPDATE client SET policy_dirty = 1 WHERE id IN (SELECT m.client_id FROM "
           "collection_member m JOIN advertisement a ON a.collection_id = m.collection_id WHERE "
           "a.release_id = ? AND a.state IN ('active', 'halted'))")
        .bind(1, release.id)
        .run();
    // Their rollouts follow: a suspended release's are halted (resumed by hand once it is back),
    // a cancelled one's end.
    db_.prepare(suspended ? "UPDATE rollout SET state = 'halted', reason = ?2 WHERE state = "
                            "'active' AND advertisement_id IN (SELECT id FROM advertisement "
                            "WHERE release_id = ?1)"
                          : "UPDATE rollout SET state = 'cancelled', reason = ?2 WHERE state IN "
                            "('active', 'halted') AND advertisement_id IN (SELECT id FROM "
                            "advertisement WHERE release_id = ?1)")
        .bind(1, release.id)
        .bind(2, release.reference + " is " + release.state)
        .run();
    db_.prepare(suspended ? "UPDATE advertisement SET state = 'halted' WHERE release_id = ? AND "
                            "state = 'active'"
                          : "UPDATE advertisement SET state = 'cancelled' WHERE release_id = ? "
                            "AND state IN ('active', 'halted')")
        .bind(1, release.id)
        .run();
}

void SqliteReleaseStore::update(const Release& release, const std::string& expected_state,
                                const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    db_.prepare(
           "UPDATE release SET state = ?, suspended_from = ?, review_round = ?, closing_review = "
           "?, updated_at = ?, closing_results = ? WHERE id = ? AND state = ?")
        .bind(1, release.state)
        .bind(2, release.suspended_from)
        .bind(3, release.review_round)
        .bind(4, release.closing_review)
        .bind(5, release.updated_at)
        .bind(6, release.closing_results)
        .bind(7, release.id)
        .bind(8, expected_state)
        .run();
    if (db_.changes() == 0)
        throw Error(ErrorCode::Conflict, release.reference + " changed meanwhile; read it again");
    write_packages(release);
    stop_advertisements(release);
    if (release.state == "closed") {
        // PROCESS.md: closing a release hands its RFCs back to change management as implemented.
        db_.prepare(
               "UPDATE rfc SET state = 'implemented' WHERE state = 'approved' AND id IN (SELECT "
               "rfc_id FROM release_rfc WHERE release_id = ?)")
            .bind(1, release.id)
            .run();
    }
    append_changelog(db_, entry);
    transaction.commit();
}

void SqliteReleaseStore::sign(const Release& release, const SignOff& signoff,
                              const std::vector<ChangeLogEntry>& entries, bool send_back) {
    sql::Transaction transaction(db_);
    sql::Statement current = db_.prepare("SELECT state, review_round FROM release WHERE id = ?");
    current.bind(1, release.id);
    if (!current.step() || current.column_text(0) != "testing")
        throw Error(ErrorCode::Conflict, release.reference + " changed meanwhile; read it again");
    const std::int64_t round = current.column_int64(1);
    db_.prepare(
           "INSERT OR REPLACE INTO release_signoff (release_id, round, item, signer, role, "
           "decision, note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, release.id)
        .bind(2, round)
        .bind(3, signoff.item)
        .bind(4, signoff.signer)
        .bind(5, signoff.role)
        .bind(6, signoff.decision)
        .bind(7, signoff.note)
        .bind(8, signoff.at)
        .run();
    if (send_back) {
        db_.prepare(
               "UPDATE release SET state = 'building', review_round = review_round + 1, "
               "updated_at = ? WHERE id = ?")
            .bind(1, signoff.at)
            .bind(2, release.id)
            .run();
    }
    for (const auto& entry : entries) append_changelog(db_, entry);
    transaction.commit();
}

std::optional<std::string> SqliteReleaseStore::rfc_state(std::int64_t rfc_id) {
    sql::Statement row = db_.prepare("SELECT state FROM rfc WHERE id = ?");
    row.bind(1, rfc_id);
    if (!row.step()) return std::nullopt;
    return row.column_text(0);
}

std::optional<PackageStanding> SqliteReleaseStore::package(const ReleasePackage& package) {
    sql::Statement row = db_.prepare(
        "SELECT retired_at IS NOT NULL FROM package_version WHERE name = ? AND "
        "version = ?");
    row.bind(1, package.name).bind(2, package.version);
    if (!row.step()) return std::nullopt;
    return PackageStanding{row.column_int64(0) != 0};
}

}  // namespace ferry::server
