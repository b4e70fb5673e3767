#include "sqlite_client_store.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string_view>
#include <vector>

#include "ferry/error.h"
#include "site_schema.h"
#include "sqlite_user_store.h"

namespace ferry::server {
namespace {

const char* kSecretColumns =
    "SELECT id, name, requires_approval, uses_left, expires_at, created_by, created_at, "
    "revoked_at FROM enrolment_secret ";

std::optional<std::int64_t> optional_int(const sql::Statement& row, int column) {
    if (row.column_is_null(column)) return std::nullopt;
    return row.column_int64(column);
}

EnrolmentSecret read_secret(const sql::Statement& row) {
    EnrolmentSecret s;
    s.id = row.column_int64(0);
    s.name = row.column_text(1);
    s.requires_approval = row.column_int64(2) != 0;
    s.uses_left = optional_int(row, 3);
    s.expires_at = optional_int(row, 4);
    s.created_by = row.column_text(5);
    s.created_at = row.column_int64(6);
    s.revoked_at = optional_int(row, 7);
    return s;
}

const char* kClientColumns =
    "SELECT id, uid, hostname, state, enrolled_at, last_seen_at, inventory_at, inventory_seq "
    "FROM client ";

Client read_client(const sql::Statement& row) {
    Client c;
    c.id = row.column_int64(0);
    c.uid = row.column_text(1);
    c.hostname = row.column_text(2);
    c.state = row.column_text(3);
    c.enrolled_at = row.column_int64(4);
    c.last_seen_at = optional_int(row, 5);
    c.inventory_at = optional_int(row, 6);
    c.inventory_seq = row.column_int64(7);
    return c;
}

// Walks a client's stored rows (key, …; in key order) beside a report's entries, taken in key
// order too: an entry is written when it is new or differs from its row, and a row no entry
// names is removed. No copy of the stored rows is made. Of two entries with one key the first
// is compared and the later ones written, in the order sent (the last wins, as it always did).
// Should SQLite's order ever differ from std::string_view's, a row would only be removed and
// written again: the result stays right.
template <typename Entry, typename KeyOf, typename Same>
void diff_against_stored(sql::Statement& stored, const std::vector<Entry>& report, KeyOf key_of,
                         Same same_as_row, std::vector<Entry>& write,
                         std::vector<std::string>& remove) {
    std::vector<std::uint32_t> order(report.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        return key_of(report[a]) < key_of(report[b]);
    });
    std::vector<bool> changed(report.size(), true);
    std::size_t next = 0;  // in `order`
    while (stored.step()) {
        const std::string_view key = stored.column_view(0);
        while (next < order.size() && key_of(report[order[next]]) < key) ++next;
        if (next < order.size() && key_of(report[order[next]]) == key) {
            if (same_as_row(report[order[next]], stored)) changed[order[next]] = false;
            ++next;
        } else {
            remove.emplace_back(key);
        }
    }
    for (std::size_t i = 0; i < report.size(); ++i) {
        if (changed[i]) write.push_back(report[i]);
    }
}

}  // namespace

void SqliteClientStore::add_secret(const EnrolmentSecret& secret, const std::string& digest,
                                   const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    try {
        db_.prepare(
               "INSERT INTO enrolment_secret (name, secret_digest, requires_approval, uses_left, "
               "expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(1, secret.name)
            .bind(2, digest)
            .bind(3, secret.requires_approval ? 1 : 0)
            .bind(4, secret.uses_left)
            .bind(5, secret.expires_at)
            .bind(6, secret.created_by)
            .bind(7, secret.created_at)
            .run();
    } catch (const Error& e) {
        if (e.code() == ErrorCode::AlreadyExists)
            throw Error(ErrorCode::AlreadyExists,
                        "an enrolment secret named " + secret.name + " exists");
        throw;
    }
    append_changelog(db_, entry);
    transaction.commit();
}

std::vector<EnrolmentSecret> SqliteClientStore::secrets() {
    sql::Statement rows = db_.prepare(std::string(kSecretColumns) + "ORDER BY id");
    std::vector<EnrolmentSecret> out;
    while (rows.step()) out.push_back(read_secret(rows));
    return out;
}

bool SqliteClientStore::revoke_secret(const std::string& name, std::int64_t at,
                                      const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    db_.prepare("UPDATE enrolment_secret SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL")
        .bind(1, at)
        .bind(2, name)
        .run();
    if (db_.changes() == 0) return false;
    append_changelog(db_, entry);
    transaction.commit();
    return true;
}

std::optional<EnrolmentSecret> SqliteClientStore::secret_by_digest(const std::string& digest) {
    sql::Statement row = db_.prepare(std::string(kSecretColumns) + "WHERE secret_digest = ?");
    row.bind(1, digest);
    if (!row.step()) return std::nullopt;
    return read_secret(row);
}

bool SqliteClientStore::enrol(const EnrolmentSecret& secret, Client& client,
                              const std::string& token_digest, const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    if (secret.uses_left) {
        db_.prepare(
               "UPDATE enrolment_secret SET uses_left = uses_left - 1 WHERE id = ? AND uses_left "
               "> 0 AND revoked_at IS NULL")
            .bind(1, secret.id)
            .run();
        if (db_.changes() == 0) return false;
    }
    db_.prepare(
           "INSERT INTO client (uid, hostname, token_digest, state, secret_id, enrolled_at) "
           "VALUES (?, ?, ?, ?, ?, ?)")
        .bind(1, client.uid)
        .bind(2, client.hostname)
        .bind(3, token_digest)
        .bind(4, client.state)
        .bind(5, secret.id)
        .bind(6, client.enrolled_at)
        .run();
    client.id = db_.last_insert_rowid();
    append_changelog(db_, entry);
    transaction.commit();
    return true;
}

std::optional<Client> SqliteClientStore::by_token_digest(const std::string& digest) {
    // Every client request starts here: kept prepared on the connection.
    const auto row = db_.cached(std::string(kClientColumns) + "WHERE token_digest = ?");
    row->bind(1, digest);
    if (!row->step()) return std::nullopt;
    return read_client(*row);
}

std::optional<Client> SqliteClientStore::find(const std::string& uid, bool with_inventory) {
    sql::Statement row = db_.prepare(std::string(kClientColumns) + "WHERE uid = ?");
    row.bind(1, uid);
    if (!row.step()) return std::nullopt;
    Client client = read_client(row);
    if (!with_inventory) return client;
    sql::Statement facts = db_.prepare(
        "SELECT key, text_value, num_value FROM client_fact WHERE client_id = ? ORDER BY key");
    facts.bind(1, client.id);
    while (facts.step()) {
        Fact fact{facts.column_text(0), facts.column_text(1), std::nullopt};
        if (!facts.column_is_null(2)) fact.number = facts.column_double(2);
        client.facts.push_back(fact);
    }
    sql::Statement software = db_.prepare(
        "SELECT w.name, w.version FROM client_software s JOIN software w ON w.id = s.software_id "
        "WHERE s.client_id = ? ORDER BY w.name");
    software.bind(1, client.id);
    while (software.step())
        client.software.push_back({software.column_text(0), software.column_text(1)});
    return client;
}

std::vector<Client> SqliteClientStore::list(int limit, std::int64_t after_id) {
    sql::Statement rows =
        db_.prepare(std::string(kClientColumns) + "WHERE id > ? ORDER BY id LIMIT ?");
    rows.bind(1, after_id).bind(2, limit);
    std::vector<Client> out;
    while (rows.step()) out.push_back(read_client(rows));
    return out;
}

bool SqliteClientStore::set_state(const std::string& uid, const std::string& from,
                                  const std::string& to, const ChangeLogEntry& entry) {
    sql::Transaction transaction(db_);
    db_.prepare("UPDATE client SET state = ?, policy_dirty = 1 WHERE uid = ? AND state = ?")
        .bind(1, to)
        .bind(2, uid)
        .bind(3, from)
        .run();
    if (db_.changes() == 0) return false;
    append_changelog(db_, entry);
    transaction.commit();
    return true;
}

ClientSummary SqliteClientStore::summary(std::int64_t now) {
    // One pass over the table: 100,000 clients are a few milliseconds.
    sql::Statement row = db_.prepare(
        "SELECT count(*), "
        "coalesce(sum(state = 'active'), 0), coalesce(sum(state = 'pending'), 0), "
        "coalesce(sum(state = 'revoked'), 0), "
        "coalesce(sum(state != 'revoked' AND last_seen_at >= ?), 0), "
        "coalesce(sum(state != 'revoked' AND last_seen_at >= ?), 0) FROM client");
    row.bind(1, now - 3600).bind(2, now - 86400);
    row.step();
    ClientSummary s;
    s.total = row.column_int64(0);
    s.active = row.column_int64(1);
    s.pending = row.column_int64(2);
    s.revoked = row.column_int64(3);
    s.seen_last_hour = row.column_int64(4);
    s.seen_last_day = row.column_int64(5);
    return s;
}

std::vector<ClientReport> SqliteClientStore::reports(std::int64_t client_id, int limit) {
    sql::Statement rows = db_.prepare(
        "SELECT m.advertisement_id, p.name || '@' || p.version, m.state, m.exit_code, "
        "m.log_tail, m.at, m.received_at FROM status_message m "
        "JOIN advertisement a ON a.id = m.advertisement_id "
        "JOIN package_version p ON p.id = a.package_version_id "
        "WHERE m.client_id = ? ORDER BY m.seq DESC LIMIT ?");
    rows.bind(1, client_id).bind(2, limit);
    std::vector<ClientReport> out;
    while (rows.step()) {
        ClientReport r;
        r.advertisement_id = rows.column_int64(0);
        r.package = rows.column_text(1);
        r.state = rows.column_text(2);
        r.exit_code = optional_int(rows, 3);
        r.log_tail = rows.column_text(4);
        r.at = rows.column_int64(5);
        r.received_at = rows.column_int64(6);
        out.push_back(std::move(r));
    }
    return out;
}

void SqliteClientStore::touch(std::int64_t client_id, std::int64_t at) {
    if (contacts_) return contacts_->note(client_id, at);
    db_.prepare("UPDATE client SET last_seen_at = ? WHERE id = ?")
        .bind(1, at)
        .bind(2, client_id)
        .run();
}

namespace {

// The fact keys a change report writes or removes.
std::vector<std::string> changed_keys(const Inventory& changes) {
    std::vector<std::string> keys = changes.removed_facts;
    for (const auto& fact : changes.facts) keys.push_back(fact.key);
    return keys;
}

// The packages of a report, one per name: of two entries with one name the later is kept, as
// it always was (the later one was written last). In name order.
std::vector<const Software*> latest_per_name(const std::vector<Software>& software) {
    std::vector<const Software*> sorted;
    sorted.reserve(software.size());
    for (const auto& package : software) sorted.push_back(&package);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Software* a, const Software* b) { return a->name < b->name; });
    std::vector<const Software*> latest;
    latest.reserve(sorted.size());
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (i + 1 == sorted.size() || sorted[i + 1]->name != sorted[i]->name)
            latest.push_back(sorted[i]);
    }
    return latest;
}

}  // namespace

std::optional<std::int64_t> SqliteClientStore::committed_software_id(const Software& software) {
    if (const auto known = ids_->find(software.name, software.version)) return known;
    const auto row = db_.cached("SELECT id FROM software WHERE name = ? AND version = ?");
    row->bind(1, software.name).bind(2, software.version);
    if (!row->step()) return std::nullopt;
    const std::int64_t id = row->column_int64(0);
    ids_->learn(software.name, software.version, id);
    return id;
}

std::int64_t SqliteClientStore::software_entry(const Software& software,
                                               std::vector<NewEntry>& learnt) {
    if (const auto known = ids_->find(software.name, software.version)) return *known;
    std::int64_t id = 0;
    {
        const auto row = db_.cached("SELECT id FROM software WHERE name = ? AND version = ?");
        row->bind(1, software.name).bind(2, software.version);
        if (row->step()) id = row->column_int64(0);
    }
    if (id == 0) {
        id = new_software_id(software);
        db_.cached("INSERT INTO software (id, name, version) VALUES (?, ?, ?)")
            ->bind(1, id)
            .bind(2, software.name)
            .bind(3, software.version)
            .run();
    }
    learnt.push_back({software, id});
    return id;
}

// The next id of the name's block, or the first of a new block (see kSoftwareIdsPerName).
std::int64_t SqliteClientStore::new_software_id(const Software& software) {
    std::optional<std::int64_t> last_of_name;
    {
        const auto row = db_.cached("SELECT max(id) FROM software WHERE name = ?");
        row->bind(1, software.name).step();
        if (!row->column_is_null(0)) last_of_name = row->column_int64(0);
    }
    if (last_of_name) {
        const std::int64_t next = *last_of_name + 1;
        if (next % kSoftwareIdsPerName == 0) {
            throw Error(ErrorCode::LimitExceeded,
                        "software: the site holds " + std::to_string(kSoftwareIdsPerName) +
                            " versions of \"" + software.name.substr(0, 80) +
                            "\" already, its most; no new one is taken");
        }
        return next;
    }
    const auto last = db_.cached("SELECT max(id) FROM software");
    last->step();
    const std::int64_t blocks =
        last->column_is_null(0) ? 0 : last->column_int64(0) / kSoftwareIdsPerName;
    return (blocks + 1) * kSoftwareIdsPerName;
}

// A full report as the changes against what is stored: a machine that reports what it
// reported before writes almost nothing (rewriting ~240 rows per report was the cost).
InventoryDiff SqliteClientStore::changes_from(std::int64_t client_id, const Inventory& full) {
    InventoryDiff diff;
    Inventory& changes = diff.changes;
    changes.full = false;
    changes.seq = full.seq;
    {
        const auto stored = db_.cached(
            "SELECT key, text_value, num_value FROM client_fact WHERE client_id = ? ORDER BY key");
        stored->bind(1, client_id);
        diff_against_stored(
            *stored, full.facts, [](const Fact& f) -> std::string_view { return f.key; },
            [](const Fact& f, const sql::Statement& row) {
                if (row.column_view(1) != f.text) return false;
                if (row.column_is_null(2)) return !f.number.has_value();
                return f.number.has_value() && *f.number == row.column_double(2);
            },
            changes.facts, changes.removed_facts);
    }
    // Packages: the ids the report names beside the ids held, both in order. A package at
    // another version is another entry: the old one is removed and the new one added.
    const std::vector<const Software*> latest = latest_per_name(full.software);
    std::vector<SoftwareIds::Pair> pairs;
    pairs.reserve(latest.size());
    for (const Software* package : latest) pairs.emplace_back(package->name, package->version);
    std::vector<std::int64_t> wanted = ids_->find_all(pairs);
    for (std::size_t i = 0; i < latest.size(); ++i) {
        if (wanted[i] != 0) continue;
        if (const auto id = committed_software_id(*latest[i]))
            wanted[i] = *id;
        else
            changes.software.push_back(*latest[i]);  // new to the site: no one holds it
    }
    wanted.erase(std::remove(wanted.begin(), wanted.end(), 0), wanted.end());
    std::sort(wanted.begin(), wanted.end());
    const auto stored = db_.cached(
        "SELECT software_id FROM client_software WHERE client_id = ? ORDER BY software_id");
    stored->bind(1, client_id);
    auto next = wanted.begin();
    while (stored->step()) {
        const std::int64_t held = stored->column_int64(0);
        for (; next != wanted.end() && *next < held; ++next) diff.add_software.push_back(*next);
        if (next != wanted.end() && *next == held)
            ++next;
        else
            diff.remove_software.push_back(held);
    }
    diff.add_software.insert(diff.add_software.end(), next, wanted.end());
    return diff;
}

InventoryDiff SqliteClientStore::diff_inventory(std::int64_t client_id, const Inventory& full) {
    sql::ReadTransaction snapshot(db_);  // the sequence and the rows as of one moment
    std::int64_t against = -1;
    {
        const auto current = db_.cached("SELECT inventory_seq FROM client WHERE id = ?");
        current->bind(1, client_id);
        // No such client: a difference against nothing, which apply_inventory never uses.
        if (current->step()) against = current->column_int64(0);
    }
    InventoryDiff diff = changes_from(client_id, full);
    diff.against = against;
    return diff;
}

void SqliteClientStore::write_facts(std::int64_t client_id, const Inventory& changes) {
    if (!changes.removed_facts.empty()) {
        const auto remove = db_.cached("DELETE FROM client_fact WHERE client_id = ? AND key = ?");
        for (const auto& key : changes.removed_facts) {
            remove->bind(1, client_id).bind(2, key).run();
            remove->reset();
        }
    }
    if (changes.facts.empty()) return;
    // An upsert: a changed row is updated in place, where REPLACE deleted and re-inserted it.
    const auto put_fact = db_.cached(
        "INSERT INTO client_fact (client_id, key, text_value, num_value) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (client_id, key) DO UPDATE SET text_value = excluded.text_value, "
        "num_value = excluded.num_value");
    for (const auto& fact : changes.facts) {
        put_fact->bind(1, client_id)
            .bind(2, fact.key)
            .bind(3, fact.text)
            .bind(4, fact.number)
            .run();
        put_fact->reset();
    }
}

void SqliteClientStore::add_software(std::int64_t client_id, std::int64_t software_id) {
    // OR IGNORE: a difference that holds never names a held entry; should one, it is held.
    const auto add =
        db_.cached("INSERT OR IGNORE INTO client_software (client_id, software_id) VALUES (?, ?)");
    add->bind(1, client_id).bind(2, software_id).run();
    add->reset();
}

void SqliteClientStore::remove_software(std::int64_t client_id,
                                        const std::vector<std::int64_t>& software_ids) {
    if (software_ids.empty()) return;
    const auto remove =
        db_.cached("DELETE FROM client_software WHERE client_id = ? AND software_id = ?");
    for (const std::int64_t id : software_ids) {
        remove->bind(1, client_id).bind(2, id).run();
        remove->reset();
    }
}

void SqliteClientStore::remove_software_named(std::int64_t client_id, const std::string& name) {
    const auto remove = db_.cached(
        "DELETE FROM client_software WHERE client_id = ? AND software_id IN "
        "(SELECT id FROM software WHERE name = ?)");
    remove->bind(1, client_id).bind(2, name).run();
    remove->reset();
}

bool SqliteClientStore::apply_inventory(std::int64_t client_id, const Inventory& inventory,
                                        std::int64_t at,
                                        const std::function<void(const InventoryChange&)>& within,
                                        const InventoryDiff* diff) {
    // Every statement here is kept prepared on the connection: a report runs them hundreds of
    // times, and preparing them anew each time cost more than running them.
    sql::Transaction transaction(db_);
    std::int64_t stored = 0;
    {
        const auto current = db_.cached("SELECT inventory_seq FROM client WHERE id = ?");
        current->bind(1, client_id);
        if (!current->step()) return false;
        stored = current->column_int64(0);
    }
    if (inventory.seq <= stored) return true;  // a resend that raced with its first delivery
    if (!inventory.full && inventory.base != stored) return false;
    std::vector<NewEntry> learnt;
    InventoryChange change;
    if (inventory.full) {
        // A full report writes only its difference from what is held: worked out before the
        // writer was waited for when that still holds (see InventoryDiff), here otherwise.
        InventoryDiff worked_out;
        if (!diff || diff->against != stored) {
            worked_out = changes_from(client_id, inventory);
            diff = &worked_out;
        }
        write_facts(client_id, diff->changes);
        remove_software(client_id, diff->remove_software);
        for (const std::int64_t id : diff->add_software) add_software(client_id, id);
        change.software_entries = diff->remove_software;
        change.software_entries.insert(change.software_entries.end(), diff->add_software.begin(),
                                       diff->add_software.end());
        for (const auto& package : diff->changes.software) {
            const std::int64_t id = software_entry(package, learnt);
            add_software(client_id, id);
            change.software_entries.push_back(id);
        }
        change.fact_keys = changed_keys(diff->changes);
    } else {
        // A change report names packages: whatever version of each is held goes. In the order
        // sent, so of two entries with one name the later stays.
        write_facts(client_id, inventory);
        for (const auto& name : inventory.removed_software) remove_software_named(client_id, name);
        for (const auto& package : inventory.software) {
            remove_software_named(client_id, package.name);
            add_software(client_id, software_entry(package, learnt));
            change.software_names.push_back(package.name);
        }
        change.software_names.insert(change.software_names.end(),
                                     inventory.removed_software.begin(),
                                     inventory.removed_software.end());
        change.fact_keys = changed_keys(inventory);
    }
    db_.cached("UPDATE client SET inventory_seq = ?, inventory_at = ? WHERE id = ?")
        ->bind(1, inventory.seq)
        .bind(2, at)
        .bind(3, client_id)
        .run();
    if (within) within(change);
    transaction.commit();
    for (const auto& entry : learnt)
        ids_->learn(entry.software.name, entry.software.version, entry.id);
    return true;
}

}  // namespace ferry::server
