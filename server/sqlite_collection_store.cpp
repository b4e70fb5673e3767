#include "sqlite_collection_store.h"

#include <algorithm>
#include <set>

#include "ferry/error.h"
#include "sqlite_user_store.h"

namespace ferry::server {
namespace {

const char* kColumns =
    "SELECT c.id, c.name, c.description, c.query, c.pilot, c.created_by, c.created_at, "
    "c.evaluated_at, (SELECT count(*) FROM collection_member m WHERE m.collection_id = c.id) "
    "FROM collection c ";

Collection read_collection(const sql::Statement& row) {
    Collection c;
    c.id = row.column_int64(0);
    c.name = row.column_text(1);
    c.description = row.column_text(2);
    if (!row.column_is_null(3)) c.query = row.column_text(3);
    c.pilot = row.column_int64(4) != 0;
    c.created_by = row.column_text(5);
    c.created_at = row.column_int64(6);
    if (!row.column_is_null(7)) c.evaluated_at = row.column_int64(7);
    c.member_count = row.column_int64(8);
    return c;
}

std::int64_t collection_id(sql::Database& db, const std::string& name) {
    sql::Statement row = db.prepare("SELECT id FROM collection WHERE name = ?");
    row.bind(1, name);
    if (!row.step()) throw Error(ErrorCode::NotFound, "no collection " + name.substr(0, 64));
    return row.column_int64(0);
}

}  // namespace

std::int64_t SqliteCollectionStore::create(const Collection& collection,
                                           const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    try {
        db_.prepare(
               "INSERT INTO collection (name, description, query, pilot, created_by, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?)")
            .bind(1, collection.name)
            .bind(2, collection.description)
            .bind(3, collection.query)
            .bind(4, collection.pilot ? 1 : 0)
            .bind(5, collection.created_by)
            .bind(6, collection.created_at)
            .run();
    } catch (const Error& e) {
        if (e.code() == ErrorCode::AlreadyExists)
            throw Error(ErrorCode::AlreadyExists,
                        "a collection named " + collection.name + " exists");
        throw;
    }
    const std::int64_t id = db_.last_insert_rowid();
    write_definition(id, collection);
    append_changelog(db_, entry);
    transaction.commit();
    return id;
}

void SqliteCollectionStore::write_definition(std::int64_t id, const Collection& collection) {
    db_.prepare("DELETE FROM collection_static WHERE collection_id = ?").bind(1, id).run();
    db_.prepare("DELETE FROM collection_link WHERE collection_id = ?").bind(1, id).run();
    sql::Statement client = db_.prepare("SELECT id FROM client WHERE uid = ?");
    sql::Statement add_static = db_.prepare(
        "INSERT OR IGNORE INTO collection_static (collection_id, client_id) VALUES (?, ?)");
    for (const auto& uid : collection.members) {
        client.bind(1, uid);
        if (!client.step())
            throw Error(ErrorCode::NotFound, "field \"members\": no client " + uid.substr(0, 40));
        add_static.bind(1, id).bind(2, client.column_int64(0)).run();
        add_static.reset();
        client.reset();
    }
    sql::Statement add_link =
        db_.prepare("INSERT INTO collection_link (collection_id, other_id, kind) VALUES (?, ?, ?)");
    for (const auto& [names, kind] : {std::make_pair(&collection.include, "include"),
                                      std::make_pair(&collection.exclude, "exclude")}) {
        for (const auto& name : *names) {
            const std::int64_t other = collection_id(db_, name);
            // Only older collections: evaluation runs oldest first, and no cycle can form.
            if (other >= id)
                throw Error(ErrorCode::InvalidInput,
                            "field \"" + std::string(kind) + "\": " + name.substr(0, 64) +
                                " is not older than " + collection.name +
                                "; a collection includes or excludes only older ones");
            add_link.bind(1, id).bind(2, other).bind(3, kind).run();
            add_link.reset();
        }
    }
}

void SqliteCollectionStore::update(const Collection& collection, const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    db_.prepare("UPDATE collection SET description = ?, query = ?, pilot = ? WHERE id = ?")
        .bind(1, collection.description)
        .bind(2, collection.query)
        .bind(3, collection.pilot ? 1 : 0)
        .bind(4, collection.id)
        .run();
    if (db_.changes() == 0)
        throw Error(ErrorCode::NotFound, "no collection " + collection.name.substr(0, 64));
    write_definition(collection.id, collection);
    append_changelog(db_, entry);
    transaction.commit();
}

bool SqliteCollectionStore::advertised(std::int64_t collection_id) {
    sql::Statement row = db_.prepare("SELECT 1 FROM advertisement WHERE collection_id = ? LIMIT 1");
    row.bind(1, collection_id);
    return row.step();
}

void SqliteCollectionStore::load_links(Collection& collection) {
    sql::Statement members = db_.prepare(
        "SELECT c.uid FROM collection_static s JOIN client c ON c.id = s.client_id WHERE "
        "s.collection_id = ? ORDER BY c.uid");
    members.bind(1, collection.id);
    while (members.step()) collection.members.push_back(members.column_text(0));
    sql::Statement links = db_.prepare(
        "SELECT o.name, l.kind FROM collection_link l JOIN collection o ON o.id = l.other_id "
        "WHERE l.collection_id = ? ORDER BY o.id");
    links.bind(1, collection.id);
    while (links.step()) {
        (links.column_text(1) == "include" ? collection.include : collection.exclude)
            .push_back(links.column_text(0));
    }
}

std::optional<Collection> SqliteCollectionStore::find(const std::string& name) {
    sql::Statement row = db_.prepare(std::string(kColumns) + "WHERE c.name = ?");
    row.bind(1, name);
    if (!row.step()) return std::nullopt;
    Collection collection = read_collection(row);
    load_links(collection);
    return collection;
}

std::vector<Collection> SqliteCollectionStore::list() {
    sql::Statement rows = db_.prepare(std::string(kColumns) + "ORDER BY c.id");
    std::vector<Collection> out;
    while (rows.step()) out.push_back(read_collection(rows));
    for (auto& collection : out) load_links(collection);
    return out;
}

std::vector<Collection> SqliteCollectionStore::definitions() {
    // Read inside every inventory report's transaction (its memberships follow it): kept
    // prepared on the connection.
    const auto rows = db_.cached(
        "SELECT id, name, query, pilot, EXISTS (SELECT 1 FROM collection_link l WHERE "
        "l.collection_id = collection.id) FROM collection ORDER BY id");
    std::vector<Collection> out;
    while (rows->step()) {
        Collection c;
        c.id = rows->column_int64(0);
        c.name = rows->column_text(1);
        if (!rows->column_is_null(2)) c.query = rows->column_text(2);
        c.pilot = rows->column_int64(3) != 0;
        c.linked = rows->column_int64(4) != 0;
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<std::string> SqliteCollectionStore::member_uids(std::int64_t collection_id, int limit) {
    sql::Statement rows = db_.prepare(
        "SELECT c.uid FROM collection_member m JOIN client c ON c.id = m.client_id WHERE "
        "m.collection_id = ? ORDER BY c.uid LIMIT ?");
    rows.bind(1, collection_id).bind(2, limit);
    std::vector<std::string> out;
    while (rows.step()) out.push_back(rows.column_text(0));
    return out;
}

std::vector<std::int64_t> SqliteCollectionStore::query_matches(
    const CompiledQuery& query, std::optional<std::int64_t> client_id) {
    // The query's text comes from the compiler's fixed fragments; every value is a parameter.
    std::string text = "SELECT c.id FROM client c WHERE c.state != 'revoked'";
    if (client_id) text += " AND c.id = ?";
    text += " AND (" + query.where + ") ORDER BY c.id";
    std::vector<std::int64_t> out;
    auto run = [&](sql::Statement& rows) {
        int index = 1;
        if (client_id) rows.bind(index++, *client_id);
        for (const auto& parameter : query.parameters) {
            if (const auto* s = std::get_if<std::string>(&parameter))
                rows.bind(index++, *s);
            else
                rows.bind(index++, std::get<double>(parameter));
        }
        while (rows.step()) out.push_back(rows.column_int64(0));
    };
    if (client_id) {
        // One client: every inventory report runs each collection's query so, on the writer's
        // connection. Prepared once there; preparing it was most of the cost.
        run(*db_.cached(text));
    } else {
        sql::Statement rows = db_.prepare(text);
        run(rows);
    }
    return out;
}

bool SqliteCollectionStore::entries_of(const std::vector<std::string>& names,
                                       const std::vector<std::int64_t>& entries) {
    // A name's entries are one block of ids (kSoftwareIdsPerName): each name is a range.
    const auto range = db_.cached("SELECT min(id), max(id) FROM software WHERE name = ?");
    for (const auto& name : names) {
        range->bind(1, name);
        const bool known = range->step() && !range->column_is_null(0);
        const std::int64_t first = known ? range->column_int64(0) : 0;
        const std::int64_t last = known ? range->column_int64(1) : -1;
        range->reset();
        for (const std::int64_t id : entries) {
            if (id >= first && id <= last) return true;
        }
    }
    return false;
}

std::vector<std::string> SqliteCollectionStore::uids(const std::vector<std::int64_t>& ids,
                                                     int limit) {
    std::vector<std::string> out;
    sql::Statement row = db_.prepare("SELECT uid FROM client WHERE id = ?");
    for (std::size_t i = 0; i < ids.size() && static_cast<int>(i) < limit; ++i) {
        row.bind(1, ids[i]);
        if (row.step()) out.push_back(row.column_text(0));
        row.reset();
    }
    return out;
}

bool SqliteCollectionStore::targeted(std::int64_t collection_id) {
    // Any advertisement, whatever its state: a halted or cancelled one is still in (or just
    // left) its clients' policies, and the builder decides what each policy lists.
    const auto row = db_.cached(
        "SELECT EXISTS (SELECT 1 FROM advertisement WHERE collection_id = ?1) OR EXISTS "
        "(SELECT 1 FROM dp WHERE collection_id = ?1)");
    row->bind(1, collection_id);
    return row->step() && row->column_int64(0) != 0;
}

std::vector<std::int64_t> SqliteCollectionStore::ids_in(const char* sql, std::int64_t collection_id,
                                                        std::optional<std::int64_t> only_client) {
    std::string text = sql;
    if (only_client) text += " AND client_id = ?";
    // A handful of fixed texts, run for every collection on every inventory report.
    const auto rows = db_.cached(text);
    rows->bind(1, collection_id);
    if (only_client) rows->bind(2, *only_client);
    std::vector<std::int64_t> out;
    while (rows->step()) out.push_back(rows->column_int64(0));
    return out;
}

std::int64_t SqliteCollectionStore::store_members(const Collection& collection,
                                                  const std::vector<std::int64_t>& matches,
                                                  std::optional<std::int64_t> only_client,
                                                  std::int64_t at) {
    sql::Transaction transaction(db_);
    std::set<std::int64_t> wanted(matches.begin(), matches.end());
    for (std::int64_t id : ids_in("SELECT client_id FROM collection_static WHERE collection_id = ?",
                                  collection.id, only_client))
        wanted.insert(id);
    // The statements below run for every collection on every inventory report (the client's
    // memberships follow it): kept prepared on the connection.
    std::vector<std::pair<std::int64_t, std::string>> others;
    {
        const auto links = db_.cached(
            "SELECT other_id, kind FROM collection_link WHERE collection_id = ? ORDER BY kind "
            "DESC");
        links->bind(1, collection.id);
        while (links->step()) others.emplace_back(links->column_int64(0), links->column_text(1));
    }
    const char* member_sql = "SELECT client_id FROM collection_member WHERE collection_id = ?";
    for (const auto& [other, kind] : others) {  // includes first, then excludes
        if (kind != "include") continue;
        for (std::int64_t id : ids_in(member_sql, other, only_client)) wanted.insert(id);
    }
    for (const auto& [other, kind] : others) {
        if (kind != "exclude") continue;
        for (std::int64_t id : ids_in(member_sql, other, only_client)) wanted.erase(id);
    }
    const auto current = ids_in(member_sql, collection.id, only_client);
    const std::set<std::int64_t> had(current.begin(), current.end());
    std::vector<std::int64_t> added, removed;
    std::set_difference(wanted.begin(), wanted.end(), had.begin(), had.end(),
                        std::back_inserter(added));
    std::set_difference(had.begin(), had.end(), wanted.begin(), wanted.end(),
                        std::back_inserter(removed));
    if (!added.empty() || !removed.empty()) {
        const auto dirty = db_.cached("UPDATE client SET policy_dirty = 1 WHERE id = ?");
        // A client's policy follows the collections it is in only through what targets them
        // (advertisements, and distribution points as sources): a collection nothing targets
        // — every new one — moves no policy, and its members are not marked. Whatever
        // targets it later marks its members then, in its own transaction.
        const bool moves_policies = targeted(collection.id);
        // A collection that had no members (a new one) gains exactly its members: they are
        // marked in one statement rather than one each (100,000 of them on a large site).
        const bool mark_all_members = moves_policies && had.empty() && added.size() > 64;
        if (!added.empty()) {
            const auto insert = db_.cached(
                "INSERT INTO collection_member (collection_id, client_id) VALUES (?, ?)");
            for (std::int64_t id : added) {
                insert->bind(1, collection.id).bind(2, id).run();
                insert->reset();
                if (mark_all_members || !moves_policies) continue;
                dirty->bind(1, id).run();
                dirty->reset();
            }
        }
        if (mark_all_members)
            db_.prepare(
                   "UPDATE client SET policy_dirty = 1 WHERE policy_dirty = 0 AND id IN "
                   "(SELECT client_id FROM collection_member WHERE collection_id = ?)")
                .bind(1, collection.id)
                .run();
        if (!removed.empty()) {
            const auto remove = db_.cached(
                "DELETE FROM collection_member WHERE collection_id = ? AND client_id = ?");
            for (std::int64_t id : removed) {
                remove->bind(1, collection.id).bind(2, id).run();
                remove->reset();
                if (!moves_policies) continue;
                dirty->bind(1, id).run();
                dirty->reset();
            }
        }
    }
    if (!only_client)
        db_.prepare("UPDATE collection SET evaluated_at = ? WHERE id = ?")
            .bind(1, at)
            .bind(2, collection.id)
            .run();
    transaction.commit();
    return static_cast<std::int64_t>(added.size() + removed.size());
}

}  // namespace ferry::server
