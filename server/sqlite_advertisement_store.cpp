#include "sqlite_advertisement_store.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <sstream>

#include "ferry/error.h"
#include "sqlite_user_store.h"

namespace ferry::server {
namespace {

std::string windows_json(const std::vector<std::string>& windows) {
    Poco::JSON::Array list;
    for (const auto& w : windows) list.add(w);
    std::ostringstream out;
    list.stringify(out);
    return out.str();
}

std::vector<std::string> windows_from(const std::string& text) {
    std::vector<std::string> out;
    const auto list = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Array::Ptr>();
    for (std::size_t i = 0; i < list->size(); ++i)
        out.push_back(list->getElement<std::string>(static_cast<unsigned>(i)));
    return out;
}

}  // namespace

void mark_audience_dirty(sql::Database& db, std::int64_t advertisement_id) {
    db.prepare(
          "UPDATE client SET policy_dirty = 1 WHERE id IN (SELECT m.client_id FROM "
          "collection_member m JOIN advertisement a ON a.collection_id = m.collection_id WHERE "
          "a.id = ?)")
        .bind(1, advertisement_id)
        .run();
}

AdvertisementTarget SqliteAdvertisementStore::target(const std::string& package,
                                                     const std::string& version,
                                                     const std::string& collection) {
    AdvertisementTarget target;
    sql::Statement p = db_.prepare(
        "SELECT id, retired_at IS NOT NULL FROM package_version WHERE name = ? AND version = ?");
    p.bind(1, package).bind(2, version);
    if (!p.step())
        throw Error(ErrorCode::NotFound, "no package " + package + "@" + version + " in the DSL");
    target.package_version_id = p.column_int64(0);
    target.retired = p.column_int64(1) != 0;
    sql::Statement c = db_.prepare("SELECT id, pilot FROM collection WHERE name = ?");
    c.bind(1, collection);
    if (!c.step()) throw Error(ErrorCode::NotFound, "no collection " + collection.substr(0, 64));
    target.collection_id = c.column_int64(0);
    target.pilot = c.column_int64(1) != 0;
    sql::Statement r = db_.prepare(
        "SELECT r.reference, r.state FROM release_package rp JOIN release r ON r.id = "
        "rp.release_id WHERE rp.package_version_id = ? AND r.state NOT IN ('closed', "
        "'cancelled', 'backed-out')");
    r.bind(1, target.package_version_id);
    while (r.step()) target.releases[r.column_text(0)] = r.column_text(1);
    return target;
}

std::int64_t SqliteAdvertisementStore::create(const Advertisement& ad,
                                              std::int64_t package_version_id,
                                              std::int64_t collection_id, bool start_deploying,
                                              const RolloutPlan* rollout,
                                              const std::vector<ChangeLogEntry>& entries) {
    sql::Transaction transaction(db_);
    sql::Statement release = db_.prepare("SELECT id FROM release WHERE reference = ?");
    release.bind(1, ad.release);
    if (!release.step()) throw Error(ErrorCode::NotFound, "no release " + ad.release);
    const std::int64_t release_id = release.column_int64(0);
    db_.prepare(
           "INSERT INTO advertisement (package_version_id, release_id, collection_id, action, "
           "available_at, deadline, mandatory, postpone_max, postpone_max_delay, windows, state, "
           "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)")
        .bind(1, package_version_id)
        .bind(2, release_id)
        .bind(3, collection_id)
        .bind(4, ad.action)
        .bind(5, ad.available_at)
        .bind(6, ad.deadline)
        .bind(7, ad.mandatory ? 1 : 0)
        .bind(8, ad.postpone_max)
        .bind(9, ad.postpone_max_delay_s)
        .bind(10, windows_json(ad.windows))
        .bind(11, ad.created_by)
        .bind(12, ad.created_at)
        .run();
    const std::int64_t id = db_.last_insert_rowid();
    std::string in_waves;
    if (rollout) {
        db_.prepare(
               "INSERT INTO rollout (advertisement_id, success_threshold, error_threshold, "
               "sign_off, current_wave, state, reason, created_by, created_at) VALUES (?, ?, ?, ?, "
               "-1, 'active', '', ?, ?)")
            .bind(1, id)
            .bind(2, rollout->success_threshold)
            .bind(3, rollout->error_threshold)
            .bind(4, rollout->sign_off ? 1 : 0)
            .bind(5, ad.created_by)
            .bind(6, ad.created_at)
            .run();
        const std::int64_t rollout_id = db_.last_insert_rowid();
        in_waves = " (" + rollout_number(rollout_id) + ")";
        sql::Statement wave = db_.prepare(
            "INSERT INTO rollout_wave (rollout_id, number, collection_id, percent, pilot) VALUES "
            "(?, ?, ?, ?, ?)");
        for (std::size_t i = 0; i < rollout->waves.size(); ++i) {
            const WavePlan& plan = rollout->waves[i];
            wave.bind(1, rollout_id).bind(2, static_cast<std::int64_t>(i));
            if (plan.collection.empty())
                wave.bind_null(3);
            else
                wave.bind(3, plan.collection_id);
            wave.bind(4, plan.percent).bind(5, plan.pilot ? 1 : 0).run();
            wave.reset();
        }
    }
    if (start_deploying) {
        db_.prepare(
               "UPDATE release SET state = 'deploying', updated_at = ? WHERE id = ? AND state = "
               "'ready'")
            .bind(1, ad.created_at)
            .bind(2, release_id)
            .run();
    }
    db_.prepare(
           "INSERT INTO feed (kind, subject, at) SELECT 'object', object_id, ? FROM "
           "package_version WHERE id = ?")
        .bind(1, ad.created_at)
        .bind(2, package_version_id)
        .run();
    mark_audience_dirty(db_, id);
    for (const auto& entry : entries) {
        ChangeLogEntry logged = entry;
        if (logged.action == "advertisement.create")
            logged.subject = advertisement_number(id) + in_waves + " " + entry.subject;
        append_changelog(db_, logged);
    }
    transaction.commit();
    return id;
}

std::vector<Advertisement> SqliteAdvertisementStore::select(const std::string& where,
                                                            std::optional<std::int64_t> id) {
    sql::Statement rows = db_.prepare(
        "SELECT a.id, p.name, p.version, r.reference, c.name, a.action, a.available_at, "
        "a.deadline, a.mandatory, a.postpone_max, a.postpone_max_delay, a.windows, a.state, "
        "a.created_by, a.created_at, coalesce(ro.id, 0) FROM advertisement a JOIN package_version "
        "p ON p.id = a.package_version_id JOIN release r ON r.id = a.release_id JOIN collection c "
        "ON c.id = a.collection_id LEFT JOIN rollout ro ON ro.advertisement_id = a.id " +
        where + " ORDER BY a.id");
    if (id) rows.bind(1, *id);
    std::vector<Advertisement> out;
    while (rows.step()) {
        Advertisement ad;
        ad.id = rows.column_int64(0);
        ad.package = rows.column_text(1);
        ad.version = rows.column_text(2);
        ad.release = rows.column_text(3);
        ad.collection = rows.column_text(4);
        ad.action = rows.column_text(5);
        ad.available_at = rows.column_int64(6);
        if (!rows.column_is_null(7)) ad.deadline = rows.column_int64(7);
        ad.mandatory = rows.column_int64(8) != 0;
        ad.postpone_max = static_cast<int>(rows.column_int64(9));
        ad.postpone_max_delay_s = rows.column_int64(10);
        ad.windows = windows_from(rows.column_text(11));
        ad.state = rows.column_text(12);
        ad.created_by = rows.column_text(13);
        ad.created_at = rows.column_int64(14);
        ad.rollout_id = rows.column_int64(15);
        out.push_back(std::move(ad));
    }
    return out;
}

std::optional<Advertisement> SqliteAdvertisementStore::find(std::int64_t id) {
    auto found = select("WHERE a.id = ?", id);
    if (found.empty()) return std::nullopt;
    return found.front();
}

std::vector<Advertisement> SqliteAdvertisementStore::list() { return select("", std::nullopt); }

bool SqliteAdvertisementStore::set_state(std::int64_t id, const std::string& from,
                                         const std::string& to, const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    db_.prepare("UPDATE advertisement SET state = ? WHERE id = ? AND state = ?")
        .bind(1, to)
        .bind(2, id)
        .bind(3, from)
        .run();
    if (db_.changes() == 0) return false;
    mark_audience_dirty(db_, id);
    append_changelog(db_, entry);
    transaction.commit();
    return true;
}

std::int64_t SqliteAdvertisementStore::add_status(std::int64_t client_id,
                                                  const std::vector<StatusMessage>& messages,
                                                  std::int64_t received_at) {
    sql::Transaction transaction(db_);
    sql::Statement exists = db_.prepare("SELECT 1 FROM advertisement WHERE id = ?");
    // A client reports only on advertisements that target it, or did when it last reported.
    sql::Statement targets = db_.prepare(
        "SELECT EXISTS (SELECT 1 FROM collection_member m JOIN advertisement a ON "
        "a.collection_id = m.collection_id WHERE a.id = ?1 AND m.client_id = ?2) OR EXISTS "
        "(SELECT 1 FROM client_advertisement WHERE advertisement_id = ?1 AND client_id = ?2)");
    sql::Statement insert = db_.prepare(
        "INSERT OR IGNORE INTO status_message (client_id, seq, advertisement_id, state, "
        "exit_code, log_tail, at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    // The latest message by the agent's sequence wins, whatever order batches arrive in.
    sql::Statement latest = db_.prepare(
        "INSERT INTO client_advertisement (client_id, advertisement_id, state, exit_code, "
        "log_tail, at, seq) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (advertisement_id, "
        "client_id) DO UPDATE SET state = excluded.state, exit_code = excluded.exit_code, "
        "log_tail = excluded.log_tail, at = excluded.at, seq = excluded.seq WHERE excluded.seq > "
        "client_advertisement.seq");
    std::int64_t added = 0;
    for (const auto& m : messages) {
        exists.bind(1, m.advertisement_id);
        const bool known = exists.step();
        exists.reset();
        if (!known)
            throw Error(ErrorCode::NotFound, "status for " +
                                                 advertisement_number(m.advertisement_id) +
                                                 ", which does not exist");
        targets.bind(1, m.advertisement_id).bind(2, client_id);
        const bool targeted = targets.step() && targets.column_int64(0) != 0;
        targets.reset();
        if (!targeted)
            throw Error(ErrorCode::Forbidden,
                        advertisement_number(m.advertisement_id) + " does not target this client");
        insert.bind(1, client_id)
            .bind(2, m.seq)
            .bind(3, m.advertisement_id)
            .bind(4, m.state)
            .bind(5, m.exit_code)
            .bind(6, m.log_tail)
            .bind(7, m.at)
            .bind(8, received_at)
            .run();
        insert.reset();
        if (db_.changes() == 0) continue;  // a resend
        ++added;
        latest.bind(1, client_id)
            .bind(2, m.advertisement_id)
            .bind(3, m.state)
            .bind(4, m.exit_code)
            .bind(5, m.log_tail)
            .bind(6, m.at)
            .bind(7, m.seq)
            .run();
        latest.reset();
    }
    transaction.commit();
    return added;
}

StatusReport SqliteAdvertisementStore::report(std::int64_t id, int client_limit) {
    StatusReport report;
    sql::Statement counts = db_.prepare(
        "SELECT state, count(*) FROM client_advertisement WHERE advertisement_id = ? GROUP BY "
        "state");
    counts.bind(1, id);
    while (counts.step()) report.counts[counts.column_text(0)] = counts.column_int64(1);
    sql::Statement targeted = db_.prepare(
        "SELECT count(*) FROM collection_member m JOIN advertisement a ON a.collection_id = "
        "m.collection_id WHERE a.id = ?");
    targeted.bind(1, id);
    targeted.step();
    report.targeted = targeted.column_int64(0);
    sql::Statement rows = db_.prepare(
        "SELECT c.uid, c.hostname, s.state, s.exit_code, s.log_tail, s.at FROM "
        "client_advertisement s JOIN client c ON c.id = s.client_id WHERE s.advertisement_id = ? "
        "ORDER BY c.uid LIMIT ?");
    rows.bind(1, id).bind(2, client_limit);
    while (rows.step()) {
        StatusReport::Row row{rows.column_text(0), rows.column_text(1), rows.column_text(2),
                              std::nullopt,        rows.column_text(4), rows.column_int64(5)};
        if (!rows.column_is_null(3)) row.exit_code = rows.column_int64(3);
        report.clients.push_back(std::move(row));
    }
    return report;
}

}  // namespace ferry::server
