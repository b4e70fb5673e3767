// SqliteClientStore::apply_inventory with full reports: the store writes only the difference
// against what it holds, and what it then holds must be exactly the last report (a package
// named twice: the last one). Random reports against that model, on the site's schema.
#define BOOST_TEST_MODULE client_store_inventory
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "client.h"
#include "ferry/error.h"
#include "ferry/sqlite.h"
#include "site_schema.h"
#include "sqlite_client_store.h"
#include "temp_dir.h"

using namespace ferry;
using namespace ferry::server;

namespace {

struct Site {
    sql::Database db;
    SqliteClientStore store{db};
    Client client;

    explicit Site(const std::string& path = ":memory:") : db(path) {
        db.migrate(site_migrations());
        EnrolmentSecret secret;
        secret.name = "s";
        secret.created_by = "admin";
        store.add_secret(secret, "digest",
                         ChangeLogEntry{1, "admin", "secret.create", "s", "", ""});
        secret = store.secrets().at(0);
        client.uid = "cl_0123456789abcdef";
        client.hostname = "ws1";
        client.state = "active";
        client.enrolled_at = 1;
        BOOST_REQUIRE(store.enrol(secret, client, "token",
                                  ChangeLogEntry{1, "ws1", "client.enrol", client.uid, "", ""}));
    }

    // Rows written by this connection so far.
    std::int64_t changes() {
        sql::Statement s = db.prepare("SELECT total_changes()");
        s.step();
        return s.column_int64(0);
    }
};

// What the store should hold after `report`: facts by key, packages by name (the last wins).
std::string expected(const Inventory& report) {
    std::map<std::string, std::string> facts, software;
    for (const auto& f : report.facts)
        facts[f.key] = f.text + (f.number ? "#" + std::to_string(*f.number) : "");
    for (const auto& s : report.software) software[s.name] = s.version;
    std::string out;
    for (const auto& [k, v] : facts) out += k + "=" + v + ";";
    out += "|";
    for (const auto& [k, v] : software) out += k + "@" + v + ";";
    return out;
}

std::string held(SqliteClientStore& store, const std::string& uid) {
    const auto client = store.find(uid, true);
    BOOST_REQUIRE(client);
    std::string out;
    for (const auto& f : client->facts)
        out += f.key + "=" + f.text + (f.number ? "#" + std::to_string(*f.number) : "") + ";";
    out += "|";
    for (const auto& s : client->software) out += s.name + "@" + s.version + ";";
    return out;
}

Inventory random_report(std::mt19937& random, std::int64_t seq) {
    auto chance = [&](double p) { return std::uniform_real_distribution<>(0, 1)(random) < p; };
    Inventory report;
    report.full = true;
    report.seq = seq;
    const char* keys[] = {"os.name", "os.version", "hw.cores", "hw.memory_mb", "net.ip", "a",
                          "b",       "b.c",        "z",        "kernel"};
    for (const char* key : keys) {
        if (chance(0.3)) continue;
        Fact fact{key, "", std::nullopt};
        switch (random() % 4) {
            case 0:
                fact.text = "Debian";
                break;
            case 1:
                fact.text = "Ubuntu";
                break;
            case 2:
                fact.number = 4096, fact.text = "4096";
                break;
            default:
                fact.number = 1.5 + (random() % 2), fact.text = "x";
                break;
        }
        report.facts.push_back(fact);
    }
    std::shuffle(report.facts.begin(), report.facts.end(), random);
    for (int i = 0; i < 40; ++i) {
        if (chance(0.4)) continue;
        const std::string name = "package-" + std::to_string(i);
        report.software.push_back({name, std::to_string(random() % 3)});
        if (chance(0.03)) report.software.push_back({name, std::to_string(random() % 3)});
    }
    std::shuffle(report.software.begin(), report.software.end(), random);
    return report;
}

}  // namespace

BOOST_AUTO_TEST_CASE(WhatIsHeldIsTheLastFullReport) {
    Site site;
    std::mt19937 random(7);
    for (std::int64_t seq = 1; seq <= 400; ++seq) {
        const Inventory report = random_report(random, seq);
        BOOST_REQUIRE(site.store.apply_inventory(site.client.id, report, 100 + seq, {}, nullptr));
        BOOST_TEST(held(site.store, site.client.uid) == expected(report), "report " << seq);
    }
    // Every package row names an entry (the table has no REFERENCES: see the migration).
    sql::Statement orphans = site.db.prepare(
        "SELECT count(*) FROM client_software s LEFT JOIN software w ON w.id = s.software_id "
        "WHERE w.id IS NULL");
    orphans.step();
    BOOST_TEST(orphans.column_int64(0) == 0);
}

BOOST_AUTO_TEST_CASE(TheSameReportAgainWritesOnlyTheSequence) {
    Site site;
    std::mt19937 random(11);
    Inventory report = random_report(random, 1);
    // Without a package named twice (the later one is always written).
    std::map<std::string, std::string> unique;
    for (const auto& s : report.software) unique[s.name] = s.version;
    report.software.clear();
    for (const auto& [name, version] : unique) report.software.push_back({name, version});
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, report, 100, {}, nullptr));
    const std::int64_t before = site.changes();
    report.seq = 2;
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, report, 101, {}, nullptr));
    BOOST_TEST(site.changes() - before == 1);  // the client row's sequence
    // A resend (not above the held sequence) changes nothing at all.
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, report, 102, {}, nullptr));
    BOOST_TEST(site.changes() - before == 1);
    BOOST_TEST(held(site.store, site.client.uid) == expected(report));
}

BOOST_AUTO_TEST_CASE(AnEmptyReportRemovesEverything) {
    Site site;
    std::mt19937 random(3);
    BOOST_REQUIRE(
        site.store.apply_inventory(site.client.id, random_report(random, 1), 100, {}, nullptr));
    Inventory empty;
    empty.seq = 2;
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, empty, 101, {}, nullptr));
    BOOST_TEST(held(site.store, site.client.uid) == "|");
}

// A difference worked out before the write (as ferryd does, outside the writer's lock) is used
// while it holds, and never once another report has moved the client on: what is held is then
// still exactly the last report.
BOOST_AUTO_TEST_CASE(ADifferenceWorkedOutBeforeIsUsedOnlyWhileItHolds) {
    Site site;
    std::mt19937 random(5);
    BOOST_REQUIRE(
        site.store.apply_inventory(site.client.id, random_report(random, 1), 100, {}, nullptr));
    for (std::int64_t seq = 2; seq <= 300; seq += 2) {
        const Inventory first = random_report(random, seq);
        const Inventory second = random_report(random, seq + 1);
        const InventoryDiff for_first = site.store.diff_inventory(site.client.id, first);
        BOOST_TEST(for_first.against == seq - 1);
        // Both worked out against the same held inventory, as two reports racing would be.
        const InventoryDiff for_second = site.store.diff_inventory(site.client.id, second);
        const std::int64_t before = site.changes();
        BOOST_REQUIRE(site.store.apply_inventory(site.client.id, first, 100 + seq, {}, &for_first));
        BOOST_TEST(held(site.store, site.client.uid) == expected(first), "report " << seq);
        // The first's difference held, so it wrote no more rows than it names (a package new
        // to the site is two: its entry and the client's row; and the client row).
        BOOST_TEST(site.changes() - before <=
                   static_cast<std::int64_t>(
                       for_first.changes.facts.size() + 2 * for_first.changes.software.size() +
                       for_first.changes.removed_facts.size() + for_first.add_software.size() +
                       for_first.remove_software.size() + 1));
        // The second's is stale now: it is worked out again.
        BOOST_REQUIRE(
            site.store.apply_inventory(site.client.id, second, 101 + seq, {}, &for_second));
        BOOST_TEST(held(site.store, site.client.uid) == expected(second), "report " << seq + 1);
    }
}

// The snapshot is one moment: a difference read while another connection writes is against
// the sequence it read.
BOOST_AUTO_TEST_CASE(TheDifferenceIsReadFromOneSnapshot) {
    test::TempDir dir;
    const std::string path = dir / "site.db";
    {
        Site site(path);
        SqliteClientStore& writer = site.store;
        const Client& client = site.client;
        std::mt19937 random(9);
        const Inventory first = random_report(random, 1);
        BOOST_REQUIRE(writer.apply_inventory(client.id, first, 100, {}, nullptr));

        sql::Database reader_db(path);
        SqliteClientStore reader(reader_db);
        {
            sql::ReadTransaction snapshot(reader_db);
            const Inventory next = random_report(random, 2);
            // Begun before the writer commits seq 2: the reader still sees seq 1's rows.
            const InventoryDiff early = reader.diff_inventory(client.id, next);
            BOOST_REQUIRE(writer.apply_inventory(client.id, next, 101, {}, nullptr));
            const InventoryDiff same_snapshot = reader.diff_inventory(client.id, next);
            BOOST_TEST(early.against == 1);
            BOOST_TEST(same_snapshot.against == 1);
            // The rows too are seq 1's: the same difference.
            BOOST_TEST(expected(same_snapshot.changes) == expected(early.changes));
            BOOST_TEST(same_snapshot.add_software == early.add_software);
            BOOST_TEST(same_snapshot.remove_software == early.remove_software);
            BOOST_TEST(same_snapshot.changes.removed_facts == early.changes.removed_facts);
        }
        // A new snapshot sees seq 2, and nothing left to change.
        const InventoryDiff later = reader.diff_inventory(client.id, random_report(random, 3));
        BOOST_TEST(later.against == 2);
    }
}

// A change report names packages: whatever version of one is held goes, and of two entries
// with one name the later stays, as with a full report.
BOOST_AUTO_TEST_CASE(AChangeReportReplacesThePackagesItNames) {
    Site site;
    Inventory full;
    full.seq = 1;
    full.software = {{"curl", "7.88"}, {"nginx", "1.22"}, {"vim", "9.0"}};
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, full, 100, {}, nullptr));
    Inventory change;
    change.full = false;
    change.seq = 2;
    change.base = 1;
    change.software = {{"nginx", "1.24"}, {"zsh", "5.9"}, {"zsh", "5.8"}, {"curl", "7.88"}};
    change.removed_software = {"vim", "not-held"};
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, change, 101, {}, nullptr));
    BOOST_TEST(held(site.store, site.client.uid) == "|curl@7.88;nginx@1.24;zsh@5.8;");
    // A change against another base is refused, and changes nothing.
    change.seq = 3;
    change.base = 1;
    change.software = {{"vim", "9.1"}};
    BOOST_TEST(!site.store.apply_inventory(site.client.id, change, 102, {}, nullptr));
    BOOST_TEST(held(site.store, site.client.uid) == "|curl@7.88;nginx@1.24;zsh@5.8;");
}

// Clients share the entries of what they have in common: one per name and version.
BOOST_AUTO_TEST_CASE(ClientsShareSoftwareEntries) {
    Site site;
    Client second;
    second.uid = "cl_fedcba9876543210";
    second.hostname = "ws2";
    second.state = "active";
    second.enrolled_at = 1;
    BOOST_REQUIRE(site.store.enrol(site.store.secrets().at(0), second, "token2",
                                   ChangeLogEntry{1, "ws2", "client.enrol", second.uid, "", ""}));
    Inventory report;
    report.seq = 1;
    report.software = {{"curl", "7.88"}, {"nginx", "1.22"}};
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, report, 100, {}, nullptr));
    report.software = {{"curl", "7.88"}, {"nginx", "1.24"}};
    BOOST_REQUIRE(site.store.apply_inventory(second.id, report, 100, {}, nullptr));
    sql::Statement entries = site.db.prepare("SELECT count(*) FROM software");
    entries.step();
    BOOST_TEST(entries.column_int64(0) == 3);
    BOOST_TEST(held(site.store, site.client.uid) == "|curl@7.88;nginx@1.22;");
    BOOST_TEST(held(site.store, second.uid) == "|curl@7.88;nginx@1.24;");
}

// The ids shared by every store of a process hold only committed entries: a report whose
// transaction rolls back teaches nothing, and the next one that names the same packages
// writes them.
BOOST_AUTO_TEST_CASE(SharedIdsLearnOnlyCommittedEntries) {
    Site site;
    SoftwareIds ids;
    SqliteClientStore store(site.db, nullptr, &ids);
    Inventory report;
    report.seq = 1;
    report.software = {{"curl", "7.88"}, {"nginx", "1.22"}};
    BOOST_CHECK_THROW(
        store.apply_inventory(
            site.client.id, report, 100,
            [](const InventoryChange&) { throw std::runtime_error("membership failed"); }, nullptr),
        std::runtime_error);
    BOOST_TEST(ids.size() == 0u);
    BOOST_TEST(held(store, site.client.uid) == "|");
    BOOST_REQUIRE(store.apply_inventory(site.client.id, report, 101, {}, nullptr));
    BOOST_TEST(ids.size() == 2u);
    BOOST_TEST(held(store, site.client.uid) == "|curl@7.88;nginx@1.22;");
    // Another store on another connection finds them there, and works out the same difference.
    SqliteClientStore other(site.db, nullptr, &ids);
    report.seq = 2;
    report.software = {{"curl", "7.88"}, {"nginx", "1.24"}};
    const InventoryDiff diff = other.diff_inventory(site.client.id, report);
    BOOST_TEST(diff.add_software.empty());  // nginx 1.24 is new to the site
    BOOST_TEST(diff.changes.software.size() == 1u);
    BOOST_TEST(diff.remove_software.size() == 1u);  // nginx 1.22
    BOOST_REQUIRE(other.apply_inventory(site.client.id, report, 102, {}, &diff));
    BOOST_TEST(ids.size() == 3u);
    BOOST_TEST(held(store, site.client.uid) == "|curl@7.88;nginx@1.24;");
}

BOOST_AUTO_TEST_CASE(SharedIdsStopLearningAtTheirBound) {
    SoftwareIds ids;
    for (std::size_t i = 0; i < SoftwareIds::kMaxEntries + 10; ++i)
        ids.learn("package", std::to_string(i), static_cast<std::int64_t>(i) + 1);
    BOOST_TEST(ids.size() == SoftwareIds::kMaxEntries);
    BOOST_TEST(ids.find("package", "0").value_or(0) == 1);
    BOOST_TEST(!ids.find("package", std::to_string(SoftwareIds::kMaxEntries)));
    // A name and a version never run together: "a" at "bc" is not "ab" at "c".
    ids.learn("a", "bc", 7);
    BOOST_TEST(!ids.find("ab", "c"));
}

// A site whose inventory was stored by name and version (before "inventory software by
// number") holds the same packages after the migration.
BOOST_AUTO_TEST_CASE(TheMigrationKeepsWhatClientsHold) {
    sql::Database db(":memory:");
    std::vector<sql::Migration> before = site_migrations();
    const auto step = std::find_if(before.begin(), before.end(), [](const sql::Migration& m) {
        return m.description == "inventory software by number";
    });
    BOOST_REQUIRE(step != before.end());
    before.erase(step, before.end());
    db.migrate(before);
    db.exec(
        "INSERT INTO client (id, uid, hostname, token_digest, state, enrolled_at) VALUES "
        "(1, 'cl_1', 'a', 'd1', 'active', 1), (2, 'cl_2', 'b', 'd2', 'active', 1);"
        "INSERT INTO client_software (client_id, name, version) VALUES (1, 'nginx', '1.22'), "
        "(1, 'curl', '7.88'), (2, 'nginx', '1.24'), (2, 'curl', '7.88');");
    db.migrate(site_migrations());
    SqliteClientStore store(db);
    BOOST_TEST(held(store, "cl_1") == "|curl@7.88;nginx@1.22;");
    BOOST_TEST(held(store, "cl_2") == "|curl@7.88;nginx@1.24;");
    // In blocks, as ferryd gives them: curl's block, then nginx's with its two versions.
    std::vector<std::string> entries;
    sql::Statement rows = db.prepare("SELECT id, name, version FROM software ORDER BY id");
    while (rows.step())
        entries.push_back(std::to_string(rows.column_int64(0)) + " " + rows.column_text(1) + "@" +
                          rows.column_text(2));
    const std::vector<std::string> blocks = {"1048576 curl@7.88", "2097152 nginx@1.22",
                                             "2097153 nginx@1.24"};
    BOOST_TEST(entries == blocks, boost::test_tools::per_element());
}

// Each name has a block of ids and its versions take them in turn, so that any version of a
// name is one range (a collection query's "software contains"). A full block is refused.
BOOST_AUTO_TEST_CASE(EachNameHasABlockOfIds) {
    Site site;
    Inventory report;
    report.seq = 1;
    report.software = {{"nginx", "1.22"}, {"curl", "7.88"}};
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, report, 100, {}, nullptr));
    report.seq = 2;
    report.software = {{"nginx", "1.24"}, {"curl", "7.88"}, {"zsh", "5.9"}};
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, report, 101, {}, nullptr));
    std::map<std::string, std::int64_t> ids;
    sql::Statement rows = site.db.prepare("SELECT name || '@' || version, id FROM software");
    while (rows.step()) ids[rows.column_text(0)] = rows.column_int64(1);
    const std::int64_t block = kSoftwareIdsPerName;
    BOOST_TEST(ids.size() == 4u);
    BOOST_TEST(ids["curl@7.88"] / block != ids["nginx@1.22"] / block);
    BOOST_TEST(ids["nginx@1.24"] == ids["nginx@1.22"] + 1);
    BOOST_TEST(ids["zsh@5.9"] % block == 0);
    BOOST_TEST(ids["zsh@5.9"] / block > std::max(ids["curl@7.88"], ids["nginx@1.24"]) / block);
    // The last id of a block taken: no new version of that name, and the report changes nothing.
    site.db.prepare("INSERT INTO software (id, name, version) VALUES (?, 'zsh', 'last')")
        .bind(1, ids["zsh@5.9"] + block - 1)
        .run();
    report.seq = 3;
    report.software = {{"zsh", "6.0"}};
    try {
        site.store.apply_inventory(site.client.id, report, 102, {}, nullptr);
        BOOST_FAIL("a version past the block was taken");
    } catch (const Error& e) {
        BOOST_TEST((e.code() == ErrorCode::LimitExceeded));
        BOOST_TEST(std::string(e.what()).find("versions of \"zsh\"") != std::string::npos,
                   e.what());
    }
    BOOST_TEST(held(site.store, site.client.uid) == "|curl@7.88;nginx@1.24;zsh@5.9;");
}
