#include "sqlite_dsl_store.h"

#include <Poco/JSON/Array.h>

#include <sstream>

#include "ferry/error.h"
#include "ferry/json.h"
#include "sqlite_user_store.h"

namespace ferry::server {
namespace {

std::string patterns_json(const std::vector<std::string>& patterns) {
    Poco::JSON::Array list;
    for (const auto& p : patterns) list.add(p);
    std::ostringstream out;
    list.stringify(out);
    return out.str();
}

std::vector<std::string> patterns_from(const std::string& text) {
    const auto object = json::parse_object("{\"p\": " + text + "}", "publisher.packages");
    std::vector<std::string> out;
    const auto list = object->getArray("p");
    for (std::size_t i = 0; list && i < list->size(); ++i)
        out.push_back(list->getElement<std::string>(static_cast<unsigned>(i)));
    return out;
}

}  // namespace

void SqliteDslStore::add_publisher(const PublisherKey& key, std::int64_t at,
                                   const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    try {
        db_.prepare(
               "INSERT INTO publisher (name, public_key, packages, created_at) VALUES (?, ?, ?, ?)")
            .bind(1, key.name)
            .bind(2, key.public_key)
            .bind(3, patterns_json(key.packages))
            .bind(4, at)
            .run();
    } catch (const Error& e) {
        if (e.code() == ErrorCode::AlreadyExists)
            throw Error(ErrorCode::AlreadyExists, "publisher name or key is already trusted");
        throw;
    }
    // Policies carry the trusted publisher keys: every client's policy changes.
    db_.exec("UPDATE client SET policy_dirty = 1 WHERE state = 'active'");
    append_changelog(db_, entry);
    transaction.commit();
}

std::vector<StoredPublisher> SqliteDslStore::publishers() {
    sql::Statement rows =
        db_.prepare("SELECT id, name, public_key, packages FROM publisher ORDER BY name");
    std::vector<StoredPublisher> out;
    while (rows.step()) {
        StoredPublisher p;
        p.id = rows.column_int64(0);
        p.key.name = rows.column_text(1);
        p.key.public_key = rows.column_text(2);
        p.key.packages = patterns_from(rows.column_text(3));
        out.push_back(p);
    }
    return out;
}

void SqliteDslStore::add_version(const PackageVersion& v, std::int64_t publisher_id,
                                 const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    try {
        db_.prepare(
               "INSERT INTO package_version (name, version, object_id, size, signature, "
               "publisher_id, manifest,"
               " registered_by, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(1, v.name)
            .bind(2, v.version)
            .bind(3, v.object_id)
            .bind(4, static_cast<std::int64_t>(v.size))
            .bind(5, v.signature)
            .bind(6, publisher_id)
            .bind(7, v.manifest_json)
            .bind(8, v.registered_by)
            .bind(9, v.registered_at)
            .run();
    } catch (const Error& e) {
        if (e.code() == ErrorCode::AlreadyExists) {
            throw Error(ErrorCode::AlreadyExists,
                        v.name + " " + v.version + " is already in the library");
        }
        throw;
    }
    append_changelog(db_, entry);
    transaction.commit();
}

std::vector<PackageVersion> SqliteDslStore::versions(const std::optional<std::string>& name) {
    sql::Statement rows = db_.prepare(
        "SELECT v.name, v.version, v.object_id, v.size, v.signature, p.name, v.manifest, "
        "v.registered_by, v.registered_at, v.retired_at"
        " FROM package_version v JOIN publisher p ON p.id = v.publisher_id"
        " WHERE ?1 IS NULL OR v.name = ?1 ORDER BY v.name, v.registered_at");
    rows.bind(1, name);
    std::vector<PackageVersion> out;
    while (rows.step()) {
        PackageVersion v;
        v.name = rows.column_text(0);
        v.version = rows.column_text(1);
        v.object_id = rows.column_text(2);
        v.size = static_cast<std::uint64_t>(rows.column_int64(3));
        v.signature = rows.column_text(4);
        v.publisher = rows.column_text(5);
        v.manifest_json = rows.column_text(6);
        v.registered_by = rows.column_text(7);
        v.registered_at = rows.column_int64(8);
        if (!rows.column_is_null(9)) v.retired_at = rows.column_int64(9);
        out.push_back(v);
    }
    return out;
}

bool SqliteDslStore::retire(const std::string& name, const std::string& version, std::int64_t at,
                            const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    db_.prepare(
           "UPDATE package_version SET retired_at = ? WHERE name = ? AND version = ? AND "
           "retired_at IS NULL")
        .bind(1, at)
        .bind(2, name)
        .bind(3, version)
        .run();
    if (db_.changes() == 0) return false;
    append_changelog(db_, entry);
    transaction.commit();
    return true;
}

std::vector<std::pair<std::string, std::uint64_t>> SqliteDslStore::collectable_objects() {
    sql::Statement rows = db_.prepare(R"sql(
SELECT p.object_id, max(p.size) FROM package_version p GROUP BY p.object_id
HAVING count(*) = sum(p.retired_at IS NOT NULL) AND sum(p.collected_at IS NULL) > 0
   AND NOT EXISTS (SELECT 1 FROM advertisement a JOIN package_version q
                   ON q.id = a.package_version_id
                   WHERE q.object_id = p.object_id AND a.state IN ('active', 'halted'))
   AND NOT EXISTS (SELECT 1 FROM release_package rp JOIN release r ON r.id = rp.release_id
                   JOIN package_version q ON q.id = rp.package_version_id
                   WHERE q.object_id = p.object_id
                     AND r.state NOT IN ('closed', 'cancelled', 'backed-out'))
ORDER BY p.object_id)sql");
    std::vector<std::pair<std::string, std::uint64_t>> out;
    while (rows.step())
        out.emplace_back(rows.column_text(0), static_cast<std::uint64_t>(rows.column_int64(1)));
    return out;
}

bool SqliteDslStore::is_registered(const std::string& object_id) {
    sql::Statement row = db_.prepare("SELECT 1 FROM package_version WHERE object_id = ? LIMIT 1");
    row.bind(1, object_id);
    return row.step();
}

void SqliteDslStore::mark_collected(const std::vector<std::string>& object_ids, std::int64_t at,
                                    const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    sql::Statement mark = db_.prepare(
        "UPDATE package_version SET collected_at = ? WHERE object_id = ? AND collected_at IS NULL");
    for (const auto& id : object_ids) {
        mark.bind(1, at).bind(2, id).run();
        mark.reset();
    }
    append_changelog(db_, entry);
    transaction.commit();
}

}  // namespace ferry::server
