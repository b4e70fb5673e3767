#include "sqlite_rollout_store.h"

#include <map>

#include "advertisement.h"
#include "sqlite_advertisement_store.h"
#include "sqlite_user_store.h"

namespace ferry::server {
namespace {

bool is_failure(const std::string& state) {
    return state == "failed" || state == "rolled-back" || state == "refused";
}

void log_all(sql::Database& db, const std::vector<ChangeLogEntry>& entries) {
    for (const auto& entry : entries) append_changelog(db, entry);
}

// The release follows its rollouts: ready -> deploying, deploying -> deployed.
void move_release(sql::Database& db, const std::string& reference, const char* from, const char* to,
                  std::int64_t at) {
    db.prepare("UPDATE release SET state = ?, updated_at = ? WHERE reference = ? AND state = ?")
        .bind(1, to)
        .bind(2, at)
        .bind(3, reference)
        .bind(4, from)
        .run();
}

}  // namespace

std::optional<std::pair<std::int64_t, bool>> SqliteRolloutStore::collection(
    const std::string& name) {
    sql::Statement row = db_.prepare("SELECT id, pilot FROM collection WHERE name = ?");
    row.bind(1, name);
    if (!row.step()) return std::nullopt;
    return std::make_pair(row.column_int64(0), row.column_int64(1) != 0);
}

std::vector<Rollout> SqliteRolloutStore::select(const std::string& where, std::int64_t key) {
    sql::Statement rows = db_.prepare(
        "SELECT ro.id, ro.advertisement_id, p.name, p.version, a.action, r.reference, c.name, "
        "a.collection_id, ro.success_threshold, ro.error_threshold, ro.sign_off, ro.current_wave, "
        "ro.state, ro.reason, ro.created_by, ro.created_at, ro.completed_at, a.backout_of IS NOT "
        "NULL, coalesce((SELECT o.id FROM rollout o WHERE o.advertisement_id = a.backout_of), "
        "ro.id) FROM rollout ro JOIN "
        "advertisement a ON a.id = ro.advertisement_id JOIN package_version p ON p.id = "
        "a.package_version_id JOIN release r ON r.id = a.release_id JOIN collection c ON c.id = "
        "a.collection_id " +
        where + " ORDER BY ro.id");
    if (!where.empty()) rows.bind(1, key);
    std::vector<Rollout> out;
    while (rows.step()) {
        Rollout r;
        r.id = rows.column_int64(0);
        r.advertisement_id = rows.column_int64(1);
        r.package = rows.column_text(2);
        r.version = rows.column_text(3);
        r.action = rows.column_text(4);
        r.release = rows.column_text(5);
        r.collection = rows.column_text(6);
        r.collection_id = rows.column_int64(7);
        r.success_threshold = static_cast<int>(rows.column_int64(8));
        r.error_threshold = static_cast<int>(rows.column_int64(9));
        r.sign_off = rows.column_int64(10) != 0;
        r.current_wave = static_cast<int>(rows.column_int64(11));
        r.state = rows.column_text(12);
        r.reason = rows.column_text(13);
        r.created_by = rows.column_text(14);
        r.created_at = rows.column_int64(15);
        if (!rows.column_is_null(16)) r.completed_at = rows.column_int64(16);
        r.backout = rows.column_int64(17) != 0;
        r.bucket_seed = rows.column_int64(18);
        out.push_back(std::move(r));
    }
    rows.reset();
    for (auto& rollout : out) fill_waves(rollout);
    return out;
}

void SqliteRolloutStore::fill_waves(Rollout& rollout) {
    sql::Statement waves = db_.prepare(
        "SELECT w.number, coalesce(c.name, ''), coalesce(w.collection_id, 0), w.percent, w.pilot, "
        "w.started_at, w.completed_at, w.failed_accepted FROM rollout_wave w LEFT JOIN collection "
        "c ON c.id = w.collection_id WHERE w.rollout_id = ? ORDER BY w.number");
    waves.bind(1, rollout.id);
    while (waves.step()) {
        Wave wave;
        wave.number = static_cast<int>(waves.column_int64(0));
        wave.plan.collection = waves.column_text(1);
        wave.plan.collection_id = waves.column_int64(2);
        wave.plan.percent = static_cast<int>(waves.column_int64(3));
        wave.plan.pilot = waves.column_int64(4) != 0;
        if (!waves.column_is_null(5)) wave.started_at = waves.column_int64(5);
        if (!waves.column_is_null(6)) wave.completed_at = waves.column_int64(6);
        wave.failed_accepted = waves.column_int64(7);
        rollout.waves.push_back(std::move(wave));
    }
    // Where each wave's clients (those still in the target collection) stand.
    const std::string success = rollout.action == "uninstall" ? "uninstalled" : "installed";
    sql::Statement counts = db_.prepare(
        "SELECT rc.wave, ca.state, count(*) FROM rollout_client rc JOIN collection_member m ON "
        "m.client_id = rc.client_id AND m.collection_id = ?1 LEFT JOIN client_advertisement ca ON "
        "ca.advertisement_id = ?2 AND ca.client_id = rc.client_id WHERE rc.rollout_id = ?3 GROUP "
        "BY rc.wave, ca.state");
    counts.bind(1, rollout.collection_id).bind(2, rollout.advertisement_id).bind(3, rollout.id);
    while (counts.step()) {
        const auto number = static_cast<std::size_t>(counts.column_int64(0));
        if (number >= rollout.waves.size()) continue;
        WaveProgress& p = rollout.waves[number].progress;
        const std::int64_t n = counts.column_int64(2);
        p.members += n;
        if (counts.column_is_null(1)) continue;
        const std::string state = counts.column_text(1);
        if (state == success)
            p.succeeded += n;
        else if (is_failure(state))
            p.failed += n;
        else
            p.in_progress += n;
    }
}

std::optional<Rollout> SqliteRolloutStore::find(std::int64_t id) {
    auto found = select("WHERE ro.id = ?", id);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
}

std::optional<Rollout> SqliteRolloutStore::find_by_advertisement(std::int64_t advertisement_id) {
    auto found = select("WHERE ro.advertisement_id = ?", advertisement_id);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
}

std::vector<Rollout> SqliteRolloutStore::list() { return select("", 0); }

std::vector<std::int64_t> SqliteRolloutStore::live() {
    sql::Statement rows =
        db_.prepare("SELECT id FROM rollout WHERE state != 'cancelled' ORDER BY id");
    std::vector<std::int64_t> out;
    while (rows.step()) out.push_back(rows.column_int64(0));
    return out;
}

std::string SqliteRolloutStore::release_state(const std::string& reference) {
    sql::Statement row = db_.prepare("SELECT state FROM release WHERE reference = ?");
    row.bind(1, reference);
    return row.step() ? row.column_text(0) : "unknown";
}

std::vector<UnplacedClient> SqliteRolloutStore::unplaced(const Rollout& rollout) {
    sql::Statement rows = db_.prepare(
        "SELECT c.id, c.uid FROM collection_member m JOIN client c ON c.id = m.client_id WHERE "
        "m.collection_id = ?1 AND NOT EXISTS (SELECT 1 FROM rollout_client rc WHERE "
        "rc.rollout_id = ?2 AND rc.client_id = m.client_id) ORDER BY c.id LIMIT 100000");
    rows.bind(1, rollout.collection_id).bind(2, rollout.id);
    std::vector<UnplacedClient> out;
    while (rows.step()) out.push_back({rows.column_int64(0), rows.column_text(1), {}});
    rows.reset();
    std::vector<std::int64_t> wave_collections;
    for (const auto& wave : rollout.waves)
        if (wave.plan.collection_id != 0) wave_collections.push_back(wave.plan.collection_id);
    if (wave_collections.empty() || out.empty()) return out;
    sql::Statement member =
        db_.prepare("SELECT 1 FROM collection_member WHERE collection_id = ? AND client_id = ?");
    for (auto& client : out)
        for (const std::int64_t collection : wave_collections) {
            member.bind(1, collection).bind(2, client.client_id);
            if (member.step()) client.collections.push_back(collection);
            member.reset();
        }
    return out;
}

void SqliteRolloutStore::place(const Rollout& rollout,
                               const std::vector<std::pair<std::int64_t, int>>& client_waves,
                               std::int64_t now) {
    sql::Transaction transaction(db_);
    sql::Statement put = db_.prepare(
        "INSERT OR IGNORE INTO rollout_client (rollout_id, client_id, wave, placed_at) VALUES (?, "
        "?, ?, ?)");
    sql::Statement dirty = db_.prepare("UPDATE client SET policy_dirty = 1 WHERE id = ?");
    for (const auto& [client, wave] : client_waves) {
        put.bind(1, rollout.id).bind(2, client).bind(3, wave).bind(4, now).run();
        put.reset();
        if (wave <= rollout.current_wave) {  // its wave has started: it is served at once
            dirty.bind(1, client).run();
            dirty.reset();
        }
    }
    transaction.commit();
}

bool SqliteRolloutStore::start_wave(const Rollout& rollout, int wave, std::int64_t at,
                                    bool release_to_deploying,
                                    const std::vector<ChangeLogEntry>& entries) {
    sql::Transaction transaction(db_);
    db_.prepare(
           "UPDATE rollout SET current_wave = ?1, reason = '' WHERE id = ?2 AND current_wave = ?1 "
           "- 1 AND state = 'active'")
        .bind(1, wave)
        .bind(2, rollout.id)
        .run();
    if (db_.changes() == 0) return false;
    db_.prepare("UPDATE rollout_wave SET started_at = ? WHERE rollout_id = ? AND number = ?")
        .bind(1, at)
        .bind(2, rollout.id)
        .bind(3, wave)
        .run();
    db_.prepare(
           "UPDATE client SET policy_dirty = 1 WHERE id IN (SELECT client_id FROM rollout_client "
           "WHERE rollout_id = ? AND wave = ?)")
        .bind(1, rollout.id)
        .bind(2, wave)
        .run();
    if (release_to_deploying) move_release(db_, rollout.release, "ready", "deploying", at);
    log_all(db_, entries);
    transaction.commit();
    return true;
}

void SqliteRolloutStore::complete_wave(const Rollout& rollout, int wave, std::int64_t at,
                                       const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    db_.prepare(
           "UPDATE rollout_wave SET completed_at = ? WHERE rollout_id = ? AND number = ? AND "
           "completed_at IS NULL")
        .bind(1, at)
        .bind(2, rollout.id)
        .bind(3, wave)
        .run();
    if (db_.changes() > 0) append_changelog(db_, entry);
    transaction.commit();
}

bool SqliteRolloutStore::set_state(const Rollout& rollout, const std::string& from,
                                   const std::string& to, const std::string& reason,
                                   std::int64_t at, bool release_to_deployed,
                                   const std::vector<ChangeLogEntry>& entries) {
    sql::Transaction transaction(db_);
    db_.prepare(
           "UPDATE rollout SET state = ?1, reason = ?2, completed_at = CASE WHEN ?1 = 'completed' "
           "THEN ?3 ELSE completed_at END WHERE id = ?4 AND state = ?5")
        .bind(1, to)
        .bind(2, reason)
        .bind(3, at)
        .bind(4, rollout.id)
        .bind(5, from)
        .run();
    if (db_.changes() == 0) return false;
    // What the agents see: the advertisement's state in their policy.
    const std::string advertised = to == "completed" ? "active" : to;
    db_.prepare("UPDATE advertisement SET state = ? WHERE id = ? AND state != ?")
        .bind(1, advertised)
        .bind(2, rollout.advertisement_id)
        .bind(3, advertised)
        .run();
    if (db_.changes() > 0) mark_audience_dirty(db_, rollout.advertisement_id);
    if (to == "active" && from == "halted") {
        // Resuming accepts the failures so far: only new ones count against the threshold.
        sql::Statement accept = db_.prepare(
            "UPDATE rollout_wave SET failed_accepted = ? WHERE rollout_id = ? AND number = ?");
        for (const auto& wave : rollout.waves) {
            accept.bind(1, wave.progress.failed).bind(2, rollout.id).bind(3, wave.number).run();
            accept.reset();
        }
    }
    if (release_to_deployed) move_release(db_, rollout.release, "deploying", "deployed", at);
    log_all(db_, entries);
    transaction.commit();
    return true;
}

namespace {

// Whether a rollout of the release other than `except` is in one of the states (an SQL list of
// fixed words, never input).
bool release_has_rollout_in(sql::Database& db, const std::string& reference, std::int64_t except,
                            const char* states) {
    sql::Statement row = db.prepare(
        std::string("SELECT 1 FROM rollout ro JOIN advertisement a ON a.id = ro.advertisement_id "
                    "JOIN release r ON r.id = a.release_id WHERE r.reference = ? AND ro.id != ? "
                    "AND ro.state IN (") +
        states + ") LIMIT 1");
    row.bind(1, reference).bind(2, except);
    return row.step();
}

}  // namespace

bool SqliteRolloutStore::release_has_unfinished(const std::string& reference,
                                                std::int64_t except_rollout) {
    return release_has_rollout_in(db_, reference, except_rollout, "'active', 'halted'");
}

bool SqliteRolloutStore::release_has_completed(const std::string& reference,
                                               std::int64_t except_rollout) {
    return release_has_rollout_in(db_, reference, except_rollout, "'completed'");
}

void SqliteRolloutStore::sample(const Rollout& rollout, std::int64_t at) {
    std::map<int, WaveProgress> last;
    std::int64_t last_at = -1;
    {
        sql::Statement rows = db_.prepare(
            "SELECT wave, members, succeeded, failed, in_progress, at FROM rollout_sample WHERE "
            "rollout_id = ?1 AND at = (SELECT max(at) FROM rollout_sample WHERE rollout_id = ?1)");
        rows.bind(1, rollout.id);
        while (rows.step()) {
            last[static_cast<int>(rows.column_int64(0))] = {
                rows.column_int64(1), rows.column_int64(2), rows.column_int64(3),
                rows.column_int64(4)};
            last_at = rows.column_int64(5);
        }
    }
    bool changed = last.size() != rollout.waves.size();
    for (const auto& wave : rollout.waves) {
        const auto it = last.find(wave.number);
        if (it == last.end()) {
            changed = true;
            break;
        }
        const WaveProgress& a = it->second;
        const WaveProgress& b = wave.progress;
        if (a.members != b.members || a.succeeded != b.succeeded || a.failed != b.failed ||
            a.in_progress != b.in_progress)
            changed = true;
    }
    if (!changed) return;
    sql::Transaction transaction(db_);
    if (last_at == at)  // several changes in one second: the last one stands for it
        db_.prepare("DELETE FROM rollout_sample WHERE rollout_id = ? AND at = ?")
            .bind(1, rollout.id)
            .bind(2, at)
            .run();
    sql::Statement put = db_.prepare(
        "INSERT INTO rollout_sample (rollout_id, at, wave, members, succeeded, failed, "
        "in_progress) VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const auto& wave : rollout.waves) {
        put.bind(1, rollout.id)
            .bind(2, at)
            .bind(3, wave.number)
            .bind(4, wave.progress.members)
            .bind(5, wave.progress.succeeded)
            .bind(6, wave.progress.failed)
            .bind(7, wave.progress.in_progress)
            .run();
        put.reset();
    }
    transaction.commit();
}

RolloutReport SqliteRolloutStore::report(const Rollout& rollout) {
    RolloutReport report;
    report.rollout = rollout;
    report.states.resize(rollout.waves.size());
    const std::string success = rollout.action == "uninstall" ? "uninstalled" : "installed";
    {
        sql::Statement rows = db_.prepare(
            "SELECT rc.wave, coalesce(ca.state, 'not reported'), count(*) FROM rollout_client rc "
            "JOIN collection_member m ON m.client_id = rc.client_id AND m.collection_id = ?1 LEFT "
            "JOIN client_advertisement ca ON ca.advertisement_id = ?2 AND ca.client_id = "
            "rc.client_id WHERE rc.rollout_id = ?3 GROUP BY 1, 2");
        rows.bind(1, rollout.collection_id).bind(2, rollout.advertisement_id).bind(3, rollout.id);
        while (rows.step()) {
            const auto wave = static_cast<std::size_t>(rows.column_int64(0));
            if (wave < report.states.size())
                report.states[wave][rows.column_text(1)] = rows.column_int64(2);
        }
    }
    {
        // Failures grouped by state and exit code, with the latest log tail and a few names.
        sql::Statement rows = db_.prepare(
            "SELECT ca.state, ca.exit_code, count(*), (SELECT l.log_tail FROM client_advertisement "
            "l WHERE l.advertisement_id = ?1 AND l.state = ca.state AND l.exit_code IS "
            "ca.exit_code ORDER BY l.at DESC LIMIT 1), group_concat(c.hostname, char(10)) FROM "
            "client_advertisement ca JOIN client c ON c.id = ca.client_id WHERE "
            "ca.advertisement_id = ?1 AND ca.state IN ('failed', 'rolled-back', 'refused') GROUP "
            "BY ca.state, ca.exit_code ORDER BY count(*) DESC LIMIT 50");
        rows.bind(1, rollout.advertisement_id);
        while (rows.step()) {
            FailureGroup group;
            group.state = rows.column_text(0);
            if (!rows.column_is_null(1)) group.exit_code = rows.column_int64(1);
            group.clients = rows.column_int64(2);
            if (!rows.column_is_null(3)) group.log_tail = rows.column_text(3);
            std::string names = rows.column_is_null(4) ? "" : rows.column_text(4);
            for (std::size_t start = 0; start < names.size() && group.hostnames.size() < 10;) {
                const auto end = names.find('\n', start);
                group.hostnames.push_back(names.substr(start, end - start));
                if (end == std::string::npos) break;
                start = end + 1;
            }
            report.failures.push_back(std::move(group));
        }
    }
    {
        sql::Statement rows = db_.prepare(
            "SELECT at, wave, members, succeeded, failed, in_progress FROM rollout_sample WHERE "
            "rollout_id = ? ORDER BY at, wave LIMIT 100000");
        rows.bind(1, rollout.id);
        while (rows.step()) {
            const std::int64_t at = rows.column_int64(0);
            if (report.history.empty() || report.history.back().at != at)
                report.history.push_back({at, {}});
            report.history.back().waves.push_back({rows.column_int64(2), rows.column_int64(3),
                                                   rows.column_int64(4), rows.column_int64(5)});
        }
    }
    {
        // The DPs whose collection holds clients of the rollout, with how those clients stand.
        sql::Statement rows = db_.prepare(
            "SELECT d.name, coalesce(d.url, ''), d.last_seen_at, json_extract(d.report, '$.lag'), "
            "a.created_at, count(*), sum(ca.state = ?4), sum(ca.state IN ('failed', "
            "'rolled-back', 'refused')), sum(ca.state IS NOT NULL AND ca.state != ?4 AND ca.state "
            "NOT IN ('failed', 'rolled-back', 'refused')) FROM rollout_client rc JOIN "
            "collection_member m ON m.client_id = rc.client_id JOIN dp d ON d.collection_id = "
            "m.collection_id AND d.revoked_at IS NULL JOIN advertisement a ON a.id = ?2 LEFT JOIN "
            "client_advertisement ca ON ca.advertisement_id = ?2 AND ca.client_id = rc.client_id "
            "WHERE rc.rollout_id = ?1 AND rc.client_id IN (SELECT client_id FROM "
            "collection_member WHERE collection_id = ?3) GROUP BY d.name ORDER BY d.name");
        rows.bind(1, rollout.id)
            .bind(2, rollout.advertisement_id)
            .bind(3, rollout.collection_id)
            .bind(4, success);
        while (rows.step()) {
            DpStanding dp;
            dp.name = rows.column_text(0);
            dp.url = rows.column_text(1);
            if (!rows.column_is_null(2)) dp.last_seen_at = rows.column_int64(2);
            if (!rows.column_is_null(3)) dp.lag = rows.column_int64(3);
            dp.synced_since_created =
                dp.last_seen_at && dp.lag && *dp.last_seen_at - *dp.lag >= rows.column_int64(4);
            dp.clients = {rows.column_int64(5), rows.column_int64(6), rows.column_int64(7),
                          rows.column_int64(8)};
            report.dps.push_back(std::move(dp));
        }
    }
    return report;
}

}  // namespace ferry::server
