#include "sqlite_backout_store.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "ferry/error.h"
#include "sqlite_advertisement_store.h"
#include "sqlite_user_store.h"

namespace ferry::server {

std::optional<std::string> SqliteBackoutStore::release_state(const std::string& reference) {
    sql::Statement row = db_.prepare("SELECT state FROM release WHERE reference = ?");
    row.bind(1, reference);
    if (!row.step()) return std::nullopt;
    return row.column_text(0);
}

std::vector<Advertisement> SqliteBackoutStore::advertisements(const std::string& reference) {
    sql::Statement rows = db_.prepare(
        "SELECT a.id, p.name, p.version, c.name, a.action, a.state FROM advertisement a JOIN "
        "release r ON r.id = a.release_id JOIN package_version p ON p.id = a.package_version_id "
        "JOIN collection c ON c.id = a.collection_id WHERE r.reference = ? AND a.action = "
        "'install' AND a.backout_of IS NULL ORDER BY a.id");
    rows.bind(1, reference);
    std::vector<Advertisement> out;
    while (rows.step()) {
        Advertisement ad;
        ad.id = rows.column_int64(0);
        ad.package = rows.column_text(1);
        ad.version = rows.column_text(2);
        ad.release = reference;
        ad.collection = rows.column_text(3);
        ad.action = rows.column_text(4);
        ad.state = rows.column_text(5);
        out.push_back(std::move(ad));
    }
    return out;
}

std::vector<InstalledClient> SqliteBackoutStore::installed_clients(const Advertisement& ad) {
    sql::Statement rows = db_.prepare(
        "SELECT client_id FROM client_advertisement WHERE advertisement_id = ? AND state = "
        "'installed' ORDER BY client_id");
    rows.bind(1, ad.id);
    std::vector<InstalledClient> out;
    while (rows.step()) out.push_back({rows.column_int64(0), 0, ""});
    rows.reset();
    // What it had before: the last other version of the package it reported installed.
    sql::Statement previous = db_.prepare(
        "SELECT p.id, p.version FROM client_advertisement ca JOIN advertisement a ON a.id = "
        "ca.advertisement_id JOIN package_version p ON p.id = a.package_version_id WHERE "
        "ca.client_id = ?1 AND ca.advertisement_id != ?2 AND ca.state = 'installed' AND a.action "
        "= 'install' AND p.name = ?3 AND p.version != ?4 ORDER BY ca.at DESC, ca.seq DESC LIMIT 1");
    for (auto& client : out) {
        previous.bind(1, client.client_id).bind(2, ad.id).bind(3, ad.package).bind(4, ad.version);
        if (previous.step()) {
            client.previous_version_id = previous.column_int64(0);
            client.previous_version = previous.column_text(1);
        }
        previous.reset();
    }
    return out;
}

std::int64_t SqliteBackoutStore::package_version_id(const std::string& name,
                                                    const std::string& version) {
    sql::Statement row =
        db_.prepare("SELECT id FROM package_version WHERE name = ? AND version = ?");
    row.bind(1, name).bind(2, version);
    if (!row.step()) throw Error(ErrorCode::NotFound, "no package " + name + "@" + version);
    return row.column_int64(0);
}

std::vector<std::int64_t> SqliteBackoutStore::apply(const std::string& reference,
                                                    const std::string& from_state,
                                                    const std::vector<BackoutGroup>& groups,
                                                    const std::string& actor, std::int64_t at,
                                                    const std::vector<ChangeLogEntry>& entries) {
    sql::Transaction transaction(db_);
    db_.prepare(
           "UPDATE release SET state = 'backed-out', updated_at = ? WHERE reference = ? AND "
           "state = ?")
        .bind(1, at)
        .bind(2, reference)
        .bind(3, from_state)
        .run();
    if (db_.changes() == 0)
        throw Error(ErrorCode::Conflict, reference + " changed meanwhile; read it again");
    // Nobody new installs the release: its advertisements and their rollouts end.
    std::vector<std::int64_t> originals;
    {
        sql::Statement rows = db_.prepare(
            "SELECT a.id FROM advertisement a JOIN release r ON r.id = a.release_id WHERE "
            "r.reference = ? AND a.backout_of IS NULL AND a.state != 'cancelled'");
        rows.bind(1, reference);
        while (rows.step()) originals.push_back(rows.column_int64(0));
    }
    sql::Statement cancel =
        db_.prepare("UPDATE advertisement SET state = 'cancelled' WHERE id = ?");
    sql::Statement end_rollout = db_.prepare(
        "UPDATE rollout SET state = 'cancelled', reason = 'its release is backed out' WHERE "
        "advertisement_id = ? AND state IN ('active', 'halted')");
    for (const std::int64_t id : originals) {
        cancel.bind(1, id).run();
        cancel.reset();
        end_rollout.bind(1, id).run();
        end_rollout.reset();
        mark_audience_dirty(db_, id);
        append_changelog(db_, {at, actor, "advertisement.state", advertisement_number(id), "active",
                               "cancelled: " + reference + " is backed out"});
    }

    SqliteAdvertisementStore ads(db_);
    std::vector<std::int64_t> rollouts;
    std::map<std::int64_t, int> per_original;
    for (const auto& group : groups) {
        std::string name = "backout-" + advertisement_number(group.original.id) + "-" +
                           std::to_string(++per_original[group.original.id]);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const std::string what =
            group.action == "install"
                ? "install " + group.original.package + " " + group.version + " again"
                : "uninstall " + group.original.package + " " + group.version;
        db_.prepare(
               "INSERT INTO collection (name, description, query, pilot, created_by, created_at, "
               "evaluated_at) VALUES (?, ?, NULL, 0, ?, ?, ?)")
            .bind(1, name)
            .bind(2, "backout of " + advertisement_number(group.original.id) + " (" + reference +
                         "): " + what)
            .bind(3, actor)
            .bind(4, at)
            .bind(5, at)
            .run();
        const std::int64_t collection_id = db_.last_insert_rowid();
        sql::Statement member_static =
            db_.prepare("INSERT INTO collection_static (collection_id, client_id) VALUES (?, ?)");
        sql::Statement member =
            db_.prepare("INSERT INTO collection_member (collection_id, client_id) VALUES (?, ?)");
        for (const std::int64_t client : group.clients) {
            member_static.bind(1, collection_id).bind(2, client).run();
            member_static.reset();
            member.bind(1, collection_id).bind(2, client).run();
            member.reset();
        }
        Advertisement ad;
        ad.package = group.original.package;
        ad.version = group.version;
        ad.release = reference;
        ad.collection = name;
        ad.action = group.action;
        ad.available_at = at;
        ad.mandatory = true;
        ad.created_by = actor;
        ad.created_at = at;
        const std::int64_t id = ads.create(
            ad, group.package_version_id, collection_id, false, &group.plan,
            {{at, actor, "advertisement.create", group.original.package, "",
              what + " on " + name + ", backout of " + advertisement_number(group.original.id)}});
        db_.prepare("UPDATE advertisement SET backout_of = ? WHERE id = ?")
            .bind(1, group.original.id)
            .bind(2, id)
            .run();
        sql::Statement rollout = db_.prepare("SELECT id FROM rollout WHERE advertisement_id = ?");
        rollout.bind(1, id);
        if (rollout.step()) rollouts.push_back(rollout.column_int64(0));
    }
    for (const auto& entry : entries) append_changelog(db_, entry);
    transaction.commit();
    return rollouts;
}

}  // namespace ferry::server
