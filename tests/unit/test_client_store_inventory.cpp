// SqliteClientStore::apply_inventory with full reports: the store writes only the difference
// against what it holds, and what it then holds must be exactly the last report (a package
// named twice: the last one). Random reports against that model, on the site's schema.
#define BOOST_TEST_MODULE client_store_inventory
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "client.h"
#include "ferry/sqlite.h"
#include "site_schema.h"
#include "sqlite_client_store.h"

using namespace ferry;
using namespace ferry::server;

namespace {

struct Site {
    sql::Database db{":memory:"};
    SqliteClientStore store{db};
    Client client;

    Site() {
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
        BOOST_REQUIRE(site.store.apply_inventory(site.client.id, report, 100 + seq, {}));
        BOOST_TEST(held(site.store, site.client.uid) == expected(report), "report " << seq);
    }
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
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, report, 100, {}));
    const std::int64_t before = site.changes();
    report.seq = 2;
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, report, 101, {}));
    BOOST_TEST(site.changes() - before == 1);  // the client row's sequence
    // A resend (not above the held sequence) changes nothing at all.
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, report, 102, {}));
    BOOST_TEST(site.changes() - before == 1);
    BOOST_TEST(held(site.store, site.client.uid) == expected(report));
}

BOOST_AUTO_TEST_CASE(AnEmptyReportRemovesEverything) {
    Site site;
    std::mt19937 random(3);
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, random_report(random, 1), 100, {}));
    Inventory empty;
    empty.seq = 2;
    BOOST_REQUIRE(site.store.apply_inventory(site.client.id, empty, 101, {}));
    BOOST_TEST(held(site.store, site.client.uid) == "|");
}
