// The deployment domain on a real site database: collections (queries, static members,
// include/exclude, re-evaluation on inventory), advertisement gates, per-client policy
// versioning and signing, status idempotence, the role table, and the site's side of
// distribution points (heartbeats, assignment, the sources signed into policies, the feed).
#define BOOST_TEST_MODULE deployment
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <random>

#include "deployment_site.h"
#include "dp.h"
#include "expect_error.h"
#include "ferry/policy.h"
#include "ferry/token.h"
#include "sqlite_dp_store.h"

using namespace ferry;
using namespace ferry::server;
using ferry::test::expect_error;
using ferry::test::Site;

BOOST_FIXTURE_TEST_CASE(CollectionsCombineQueriesMembersIncludesAndExcludes, Site) {
    const auto big = enrol("ws-big", "Debian", 16384, {"bash"});
    const auto web = enrol("ws-web", "Debian", 8192, {"nginx"});
    const auto tiny = enrol("ws-tiny", "Debian", 1024, {"bash"});
    const auto win = enrol("ws-win", "Windows", 8192, {});
    collection("debian", std::string("os.name == \"Debian\""));
    collection("servers", std::string("software contains \"nginx\""));
    collection("small", std::nullopt, {tiny.uid});
    const auto target =
        collection("target", std::nullopt, {win.uid}, false, {"debian"}, {"servers", "small"});
    BOOST_TEST(target.member_count == 2);
    auto expected = std::vector<std::string>{big.uid, win.uid};
    std::sort(expected.begin(), expected.end());
    BOOST_TEST(members("target") == expected);
    // Inventory changes move membership at once, and dirty only the client that moved (once
    // something targets the collection: see ANewCollectionMarksNoPolicyUntilSomethingTargetsIt).
    release_to("ready");
    ads.create(rita, hello_on("target"));
    db.exec("UPDATE client SET policy_dirty = 0");
    Inventory change;
    change.full = false;
    change.seq = 2;
    change.base = 1;
    change.software = {{"nginx", "1.22"}};
    clients.report_inventory(big, change);
    collections.refresh_client(big.id);
    BOOST_TEST(members("target") == std::vector<std::string>{win.uid});
    sql::Statement dirty = db.prepare("SELECT uid FROM client WHERE policy_dirty = 1");
    BOOST_REQUIRE(dirty.step());
    BOOST_TEST(dirty.column_text(0) == big.uid);
    BOOST_TEST(!dirty.step());
    (void)web;
    expect_error([&] { collection("bad", std::string("os.name ==")); }, ErrorCode::InvalidInput,
                 "column 11");
    expect_error([&] { collection("x", std::nullopt, {}, false, {"nope"}); }, ErrorCode::NotFound,
                 "no collection nope");
    expect_error([&] { collection("debian", std::string("has os.name")); },
                 ErrorCode::AlreadyExists, "a collection named debian exists");
    expect_error([&] { collections.create(vera, Collection{}); }, ErrorCode::Forbidden,
                 "role viewer may not create collections");

    // Editing a definition re-evaluates it; links name only older collections.
    Collection edited = collections.show(vera, "servers");
    edited.query = "hw.memory_mb < 2000";
    BOOST_TEST(collections.update(rita, edited).member_count == 1);
    BOOST_TEST(members("servers") == std::vector<std::string>{tiny.uid});
    edited.include = {"target"};
    expect_error([&] { collections.update(rita, edited); }, ErrorCode::InvalidInput,
                 "target is not older than servers");
    BOOST_TEST(collections.show(vera, "servers").include.empty());
}

BOOST_FIXTURE_TEST_CASE(AdvertisementsPassTheReleaseGates, Site) {
    enrol("ws-1", "Debian", 8192, {});
    collection("pilot", std::string("has os.name"), {}, true);
    collection("everyone", std::string("has os.name"));
    expect_error([&] { ads.create(rita, hello_on("pilot")); }, ErrorCode::Conflict,
                 "REL-2026-0001 is planning; a pilot collection needs the release testing");
    release_to("testing");
    BOOST_TEST(ads.create(rita, hello_on("pilot")).release == "REL-2026-0001");
    // A targeted pilot collection cannot quietly become production (or the reverse).
    Collection promoted = collections.show(vera, "pilot");
    promoted.pilot = false;
    expect_error([&] { collections.update(rita, promoted); }, ErrorCode::Conflict,
                 "its pilot flag cannot change");
    expect_error([&] { ads.create(rita, hello_on("everyone")); }, ErrorCode::Conflict,
                 "collection everyone is production: the release must be ready");
    release_to("ready");
    ads.create(rita, hello_on("everyone"));
    BOOST_TEST(releases.list(vera).front().state == "deploying");
    auto other = hello_on("everyone");
    other.version = "2.0";
    expect_error([&] { ads.create(rita, other); }, ErrorCode::NotFound, "no package hello@2.0");
    auto late = hello_on("everyone");
    late.available_at = now + 100;
    late.deadline = now + 50;
    expect_error([&] { ads.create(rita, late); }, ErrorCode::InvalidInput,
                 "field \"deadline\": must be after the available time");
    auto windowed = hello_on("everyone");
    windowed.windows = {"Mon-Fri 22:00-06:00", "Sat,Sun 00:00-23:59", "daily 12:00-13:00"};
    BOOST_TEST(ads.create(rita, windowed).windows.size() == 3u);
    for (const char* bad :
         {"Mon-Fri", "Funday 10:00-11:00", "Mon 25:00-26:00", "Mon 10:00-10:00"}) {
        windowed.windows = {bad};
        expect_error([&] { ads.create(rita, windowed); }, ErrorCode::InvalidInput,
                     "field \"windows\"");
    }
    expect_error([&] { ads.create(vera, hello_on("pilot")); }, ErrorCode::Forbidden,
                 "role viewer may not advertise");
    db.exec("UPDATE package_version SET retired_at = 5");
    expect_error([&] { ads.create(rita, hello_on("pilot")); }, ErrorCode::Conflict,
                 "hello@1.0 is retired");
}

BOOST_FIXTURE_TEST_CASE(PolicyVersionsGrowOnlyWhenContentChanges, Site) {
    const auto client = enrol("ws-1", "Debian", 8192, {});
    const auto pending = clients.enrol(clients.create_secret(root, "guarded", true, 1, 0), "ws-2");
    BOOST_TEST(builder.build_dirty(now).issued == 1);  // the pending client gets none
    BOOST_TEST(!policy_store.by_uid(pending.client.uid).has_value());
    const auto first = policy_of(client);
    const auto accepted =
        verify_policy(first, site_key.public_key(), client.uid, AcceptedPolicy{}, now);
    BOOST_TEST(accepted.version == 1u);
    BOOST_TEST(accepted.advertisements.empty());
    BOOST_TEST(accepted.publishers.size() == 1u);

    // Marked dirty, nothing changed: same version, same bytes.
    db.exec("UPDATE client SET policy_dirty = 1");
    now += 60;
    BOOST_TEST(builder.build_dirty(now).issued == 0);
    BOOST_TEST(policy_of(client).json == first.json);

    // An advertisement for its collection: version 2, signed, with the advertisement.
    collection("pilot", std::string("has os.name"), {}, true);
    release_to("testing");
    const auto ad = ads.create(rita, hello_on("pilot"));
    BOOST_TEST(builder.build_dirty(now).issued == 1);
    const auto second =
        verify_policy(policy_of(client), site_key.public_key(), client.uid, {1, ""}, now);
    BOOST_TEST(second.version == 2u);
    BOOST_REQUIRE(second.advertisements.size() == 1u);
    BOOST_TEST(second.advertisements[0].id == advertisement_number(ad.id));
    BOOST_TEST(second.advertisements[0].object_id == std::string(64, 'a'));

    // Halting changes the rollout state in the policy.
    ads.change_state(rita, ad.id, "halted", "pilot crashed");
    builder.build_dirty(now);
    const auto third =
        verify_policy(policy_of(client), site_key.public_key(), client.uid, {2, ""}, now);
    BOOST_TEST(third.advertisements[0].rollout_state == "halted");
    expect_error([&] { ads.change_state(rita, ad.id, "halted", ""); }, ErrorCode::Conflict,
                 "ADV-0001 is halted");

    // Renewed before expiry, with a new version; the feed has every issued policy.
    now += kPolicyLifetime - kPolicyRenewBefore + 1;
    BOOST_TEST(builder.build_dirty(now).issued == 1);
    BOOST_TEST(policy_store.by_uid(client.uid)->version == 4u);
    sql::Statement feed = db.prepare("SELECT count(*) FROM feed WHERE kind = 'policy'");
    feed.step();
    BOOST_TEST(feed.column_int64(0) == 4);
}

BOOST_FIXTURE_TEST_CASE(StatusIsIdempotentAndTheLatestWins, Site) {
    const auto client = enrol("ws-1", "Debian", 8192, {});
    collection("pilot", std::string("has os.name"), {}, true);
    release_to("testing");
    const auto ad = ads.create(rita, hello_on("pilot"));
    const std::vector<StatusMessage> batch = {{3, ad.id, "installed", 0, "done", now},
                                              {1, ad.id, "downloading", std::nullopt, "", now}};
    BOOST_TEST(ads.report_status(client, batch) == 2);
    BOOST_TEST(ads.report_status(client, batch) == 0);
    const auto report = ads.report(vera, ad.id);
    BOOST_TEST(report.counts.at("installed") == 1);
    BOOST_TEST(report.counts.count("downloading") == 0u);
    BOOST_TEST(report.targeted == 1);
    expect_error(
        [&] {
            ads.report_status(client, {{4, ad.id, "exploded", std::nullopt, "", now}});
        },
        ErrorCode::InvalidInput, "messages[0].state");
    expect_error(
        [&] {
            ads.report_status(client, {{5, 999, "installed", std::nullopt, "", now}});
        },
        ErrorCode::NotFound, "ADV-0999");
}

BOOST_AUTO_TEST_CASE(TheRoleTableGrantsEachRoleOnlyItsWork) {
    struct Row {
        Permission permission;
        std::vector<Role> allowed;
    };
    const std::vector<Role> people = {Role::Admin, Role::ReleaseManager, Role::Cab, Role::Packager,
                                      Role::Viewer};
    const std::vector<Row> table = {
        {Permission::ManageUsers, {Role::Admin}},
        {Permission::ReadSite, people},
        {Permission::ReadContent,
         {Role::Admin, Role::ReleaseManager, Role::Cab, Role::Packager, Role::Viewer,
          Role::DistributionPoint}},
        {Permission::ReadObjects,
         {Role::Admin, Role::ReleaseManager, Role::Cab, Role::Packager, Role::Viewer,
          Role::DistributionPoint, Role::Client}},
        {Permission::UploadObjects, {Role::Admin, Role::Packager}},
        {Permission::ManagePublishers, {Role::Admin}},
        {Permission::RetirePackages, {Role::Admin, Role::ReleaseManager}},
        {Permission::SubmitRfc, {Role::Admin, Role::ReleaseManager, Role::Packager}},
        {Permission::VoteRfc, {Role::Cab}},
        {Permission::ManageReleases, {Role::Admin, Role::ReleaseManager}},
        {Permission::ManageClients, {Role::Admin}},
        {Permission::ManageCollections, {Role::Admin, Role::ReleaseManager}},
        {Permission::Advertise, {Role::Admin, Role::ReleaseManager}},
        {Permission::CollectObjects, {Role::Admin}},
        {Permission::ManageDps, {Role::Admin}},
    };
    for (const auto& row : table) {
        for (Role role : {Role::Admin, Role::ReleaseManager, Role::Cab, Role::Packager,
                          Role::Viewer, Role::DistributionPoint, Role::Client}) {
            const bool expected =
                std::find(row.allowed.begin(), row.allowed.end(), role) != row.allowed.end();
            BOOST_TEST(role_allows(role, row.permission) == expected,
                       role_name(role) << " / permission " << static_cast<int>(row.permission));
        }
    }
    BOOST_TEST(!parse_role("dp").has_value());
    BOOST_TEST(!parse_role("client").has_value());
}

BOOST_FIXTURE_TEST_CASE(ReleaseDecisionsReachItsAdvertisements, Site) {
    const auto client = enrol("ws-1", "Debian", 8192, {});
    collection("pilot", std::string("has os.name"), {}, true);
    release_to("testing");
    const auto ad = ads.create(rita, hello_on("pilot"));
    const std::string ref = releases.list(vera).front().reference;
    releases.transition(rita, ref, "suspended", "emergency change first");
    BOOST_TEST(ads.show(vera, ad.id).state == "halted");
    expect_error([&] { ads.change_state(rita, ad.id, "active", ""); }, ErrorCode::Conflict,
                 "ADV-0001 cannot resume: REL-2026-0001 is suspended");
    releases.transition(rita, ref, "testing", "");
    BOOST_TEST(ads.change_state(rita, ad.id, "active", "").state == "active");
    releases.transition(rita, ref, "cancelled", "superseded by 1.1");
    BOOST_TEST(ads.show(vera, ad.id).state == "cancelled");
    builder.build_dirty(now);
    // A cancelled advertisement leaves the client's policy.
    const auto policy =
        verify_policy(policy_of(client), site_key.public_key(), client.uid, {}, now);
    BOOST_TEST(policy.advertisements.empty());
}

BOOST_FIXTURE_TEST_CASE(PilotCollectionsIncludeOnlyPilots, Site) {
    collection("production", std::string("has os.name"));
    collection("lab", std::string("has os.name"), {}, true);
    expect_error([&] { collection("pilots", std::nullopt, {}, true, {"production"}); },
                 ErrorCode::InvalidInput, "production is a production collection");
    BOOST_TEST(collection("pilots", std::nullopt, {}, true, {"lab"}).pilot);
    BOOST_TEST(!collection("everyone", std::nullopt, {}, false, {"lab", "production"}).pilot);
    expect_error([&] { collection("preview", std::string("has a")); }, ErrorCode::InvalidInput,
                 "\"preview\" is reserved");
}

BOOST_FIXTURE_TEST_CASE(ClientsReportOnlyOnWhatTargetsThem, Site) {
    const auto inside = enrol("ws-1", "Debian", 8192, {});
    const auto outside = enrol("ws-2", "Windows", 8192, {});
    collection("pilot", std::string("os.name == \"Debian\""), {}, true);
    release_to("testing");
    const auto ad = ads.create(rita, hello_on("pilot"));
    BOOST_TEST(ads.report_status(inside, {{1, ad.id, "installed", 0, "", now}}) == 1);
    expect_error(
        [&] {
            ads.report_status(outside, {{1, ad.id, "failed", 1, "", now}});
        },
        ErrorCode::Forbidden, "ADV-0001 does not target this client");
    BOOST_TEST(ads.report(vera, ad.id).clients.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(AFullInventoryIsAppliedAsChanges, Site) {
    const auto client = enrol("ws-1", "Debian", 8192, {"bash", "zsh", "vim"});
    auto report = [&](std::int64_t seq, std::vector<Software> software, double memory) {
        Inventory full;
        full.seq = seq;
        full.facts = {{"os.name", "Debian", std::nullopt}, {"hw.memory_mb", "", memory}};
        full.software = std::move(software);
        clients.report_inventory(clients.show(root, client.uid), full);
    };
    // The same report again: only the client's sequence is written.
    const int before = sqlite3_total_changes(db.handle());
    report(2, {{"bash", "1"}, {"zsh", "1"}, {"vim", "1"}}, 8192);
    BOOST_TEST(sqlite3_total_changes(db.handle()) - before == 1);
    // A changed report: one package gone, one upgraded, one new, a fact changed.
    report(3, {{"bash", "2"}, {"vim", "1"}, {"git", "2.39"}}, 16384);
    const auto shown = clients.show(root, client.uid);
    std::vector<std::string> software;
    for (const auto& p : shown.software) software.push_back(p.name + "=" + p.version);
    BOOST_TEST(software == (std::vector<std::string>{"bash=2", "git=2.39", "vim=1"}));
    BOOST_REQUIRE(shown.facts.size() == 2u);
    BOOST_TEST(shown.facts[0].key == "hw.memory_mb");
    BOOST_TEST(shown.facts[0].number.value_or(0) == 16384.0);
    BOOST_TEST(shown.inventory_seq == 3);
}

namespace {

std::int64_t changelog_count(sql::Database& db, const std::string& action) {
    sql::Statement row = db.prepare("SELECT count(*) FROM changelog WHERE action = ?");
    row.bind(1, action);
    row.step();
    return row.column_int64(0);
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(DistributionPointsServingACollectionAreItsMembersSources, Site) {
    SqliteDpStore dp_store(db);
    DpService dps(dp_store, clock);
    const auto near = enrol("ws-near", "Debian", 8192, {});
    const auto far = enrol("ws-far", "Debian", 1024, {});
    collection("branch", std::string("hw.memory_mb >= 4096"));
    dps.add(root, "edge-b");
    dps.add(root, "edge-a");
    const Principal edge_a{"dp:edge-a", Role::DistributionPoint};
    const Principal edge_b{"dp:edge-b", Role::DistributionPoint};
    dps.report(edge_b, "http://10.0.0.2:8080", "{}");
    dps.report(edge_a, "https://10.0.0.1:8443", R"({"objects": 3})");
    BOOST_TEST(builder.build_dirty(now).issued == 2);
    auto sources_of = [&](const Client& c) {
        return verify_policy(policy_of(c), site_key.public_key(), c.uid, {}, now).sources;
    };
    auto version_of = [&](const Client& c) { return policy_store.by_uid(c.uid)->version; };
    BOOST_TEST(sources_of(near).empty());
    BOOST_TEST(policy_of(near).json.find("sources") == std::string::npos);

    // Assigned: the members' policies name both, in DP name order; others are untouched.
    dps.assign(root, "edge-b", "branch");
    dps.assign(root, "edge-a", "branch");
    BOOST_TEST(builder.build_dirty(now).issued == 1);
    BOOST_TEST(sources_of(near) ==
               (std::vector<std::string>{"https://10.0.0.1:8443", "http://10.0.0.2:8080"}));
    BOOST_TEST(sources_of(far).empty());
    BOOST_TEST(dps.show(vera, "edge-a").collection == "branch");

    // A heartbeat with the same address changes nothing; a new address re-issues.
    const auto before = version_of(near);
    dps.report(edge_a, "https://10.0.0.1:8443", R"({"objects": 4})");
    BOOST_TEST(builder.build_dirty(now).examined == 0);
    BOOST_TEST(dps.show(vera, "edge-a").report == R"({"objects": 4})");
    dps.report(edge_a, "https://dp-a.example:8443", "{}");
    BOOST_TEST(builder.build_dirty(now).issued == 1);
    BOOST_TEST(version_of(near) == before + 1);
    BOOST_TEST(sources_of(near).front() == "https://dp-a.example:8443");

    // Membership: a client that joins the collection gets the sources.
    Inventory grown;
    grown.seq = 2;
    grown.facts = {{"os.name", "Debian", std::nullopt}, {"hw.memory_mb", "", 8192.0}};
    clients.report_inventory(clients.show(root, far.uid), grown);
    collections.refresh_client(far.id);
    BOOST_TEST(builder.build_dirty(now).issued == 1);
    BOOST_TEST(sources_of(far).size() == 2u);

    // Two DPs at one address: named once.
    dps.report(edge_b, "https://dp-a.example:8443", "{}");
    builder.build_dirty(now);
    BOOST_TEST(sources_of(near) == std::vector<std::string>{"https://dp-a.example:8443"});

    // Unassigned and revoked DPs leave the policies; no sources, no field.
    dps.assign(root, "edge-a", "");
    dps.revoke(root, "edge-b");
    BOOST_TEST(builder.build_dirty(now).issued == 2);
    BOOST_TEST(sources_of(near).empty());
    BOOST_TEST(policy_of(far).json.find("sources") == std::string::npos);

    // Logged: each new address (not each heartbeat), each assignment.
    BOOST_TEST(changelog_count(db, "dp.url") == 4);
    BOOST_TEST(changelog_count(db, "dp.assign") == 3);
}

BOOST_FIXTURE_TEST_CASE(DistributionPointRoutesCheckRolesAndInput, Site) {
    SqliteDpStore dp_store(db);
    DpService dps(dp_store, clock);
    collection("branch", std::string("has os.name"));
    dps.add(root, "edge");
    const Principal edge{"dp:edge", Role::DistributionPoint};

    // Only the DP reports itself, with an address every agent accepts.
    expect_error([&] { dps.report(root, "http://a:1", "{}"); }, ErrorCode::Forbidden,
                 "only a distribution point reports itself");
    for (const char* bad : {"ftp://a", "http://", "http://a b", "a:80"})
        expect_error([&] { dps.report(edge, bad, "{}"); }, ErrorCode::InvalidInput,
                     "field \"url\"");
    const auto registered = dps.report(edge, "http://127.0.0.1:9000", "{}");
    BOOST_TEST(registered.schedule.empty());
    BOOST_TEST(!registered.replica);
    BOOST_TEST(*registered.last_seen_at == now);

    // Admin only: assign, schedule, replica; a DP cannot configure itself.
    for (const Principal& who : {rita, vera, edge}) {
        expect_error([&] { dps.assign(who, "edge", "branch"); }, ErrorCode::Forbidden,
                     "may not assign distribution points");
        expect_error([&] { dps.set_schedule(who, "edge", "default 1MiB/s"); }, ErrorCode::Forbidden,
                     "may not schedule distribution points");
        expect_error([&] { dps.set_replica(who, "edge", true); }, ErrorCode::Forbidden,
                     "may not configure distribution points");
    }
    expect_error([&] { dps.list(edge); }, ErrorCode::Forbidden, "may not read distribution points");
    expect_error([&] { dps.assign(root, "edge", "nope"); }, ErrorCode::NotFound,
                 "no collection nope");
    expect_error([&] { dps.assign(root, "ghost", "branch"); }, ErrorCode::NotFound,
                 "no active distribution point ghost");
    expect_error([&] { dps.set_schedule(root, "edge", "Mon-Fri 08:00-18:00 fast"); },
                 ErrorCode::InvalidInput, "field \"schedule\": ");
    expect_error([&] { dps.set_schedule(root, "edge", "default 1MiB/s\x01"); },
                 ErrorCode::InvalidInput, "printable");
    expect_error([&] { dps.set_schedule(root, "edge", std::string(1025, 'a')); },
                 ErrorCode::InvalidInput, "at most 1024");

    // What the admin set comes back in the DP's next heartbeat answer.
    const std::string schedule = "Mon-Fri 08:00-18:00 2MiB/s; default unlimited";
    dps.set_schedule(root, "edge", schedule);
    dps.set_replica(root, "edge", true);
    const auto answer = dps.report(edge, "http://127.0.0.1:9000", "{}");
    BOOST_TEST(answer.schedule == schedule);
    BOOST_TEST(answer.replica);
    BOOST_TEST(changelog_count(db, "dp.schedule") == 1);
    BOOST_TEST(changelog_count(db, "dp.replica") == 1);
    BOOST_TEST(changelog_count(db, "dp.url") == 1);
}

BOOST_FIXTURE_TEST_CASE(TheFeedCarriesEveryClientsTokenDigestAndState, Site) {
    const auto guarded = clients.create_secret(root, "guarded", true, std::nullopt, 0);
    const Enrolment e = clients.enrol(guarded, "ws-1");
    clients.approve(root, e.client.uid);
    clients.revoke(root, e.client.uid);
    sql::Statement rows =
        db.prepare("SELECT detail FROM feed WHERE kind = 'client' AND subject = ? ORDER BY seq");
    rows.bind(1, e.client.uid);
    const std::string digest = token_digest(e.token);
    for (const char* state : {"pending", "active", "revoked"}) {
        BOOST_REQUIRE(rows.step());
        BOOST_TEST(rows.column_text(0) == digest + " " + state);
    }
    BOOST_TEST(!rows.step());
    // Every registered package version is on the feed as a library object, with its size.
    sql::Statement library =
        db.prepare("SELECT subject, detail FROM feed WHERE kind = 'object' ORDER BY seq");
    BOOST_REQUIRE(library.step());
    BOOST_TEST(library.column_text(0) == std::string(64, 'a'));
    BOOST_TEST(library.column_text(1) == "library 10");
}

BOOST_AUTO_TEST_CASE(AnOlderSiteGainsFeedEntriesForItsClientsAndLibrary) {
    // A site database from before distribution points: its clients, a package and a policy
    // on the feed. The migrations give every client and every package version a feed entry.
    const auto& all = site_migrations();
    std::size_t dp_migration = 0;
    while (dp_migration < all.size() &&
           all[dp_migration].description.rfind("distribution points", 0) != 0)
        ++dp_migration;
    BOOST_REQUIRE(dp_migration < all.size());
    test::TempDir dir;
    sql::Database db(dir / "site.db");
    db.migrate(std::vector<sql::Migration>(all.begin(), all.begin() + dp_migration));
    db.exec(
        "INSERT INTO client (uid, hostname, token_digest, state, enrolled_at) VALUES "
        "('cl_0000000000000001', 'a', 'd1', 'active', 1), "
        "('cl_0000000000000002', 'b', 'd2', 'revoked', 1);"
        "INSERT INTO publisher (name, public_key, packages, created_at) VALUES ('p', 'k', "
        "'[\"*\"]', 1);"
        "INSERT INTO package_version (name, version, object_id, size, signature, publisher_id, "
        "manifest, registered_by, registered_at) VALUES ('hello', '1.0', '" +
        std::string(64, 'b') +
        "', 42, 's', 1, '{}', 'p', 1);"
        "INSERT INTO feed (kind, subject, at) VALUES ('policy', 'cl_0000000000000001', 1);");
    db.migrate(all);
    sql::Statement rows = db.prepare("SELECT seq, kind, subject, detail FROM feed ORDER BY seq");
    std::vector<std::string> feed;
    while (rows.step()) {
        feed.push_back(std::to_string(rows.column_int64(0)) + " " + rows.column_text(1) + " " +
                       rows.column_text(2) +
                       (rows.column_is_null(3) ? std::string() : " " + rows.column_text(3)));
    }
    BOOST_TEST(feed == (std::vector<std::string>{
                           "1 policy cl_0000000000000001",
                           "2 client cl_0000000000000001 d1 active",
                           "3 client cl_0000000000000002 d2 revoked",
                           "4 object " + std::string(64, 'b') + " library 42",
                       }));
}

// A new collection marks its members for a policy rebuild in one statement when it has many
// (SqliteCollectionStore::store_members): exactly its members, nobody else.
// A client's policy follows its collections only through what targets them (advertisements,
// distribution points): a new collection marks no policy; an advertisement marks its members;
// from then on a membership change marks exactly the clients that moved.
BOOST_FIXTURE_TEST_CASE(ANewCollectionMarksNoPolicyUntilSomethingTargetsIt, Site) {
    std::vector<std::string> debian;
    for (int i = 0; i < 100; ++i)
        debian.push_back(enrol("deb-" + std::to_string(i), "Debian", 4096, {}).uid);
    std::sort(debian.begin(), debian.end());
    const auto win = enrol("ws-win", "Windows", 8192, {});
    const auto dirty = [&] {
        std::vector<std::string> uids;
        sql::Statement rows =
            db.prepare("SELECT uid FROM client WHERE policy_dirty = 1 ORDER BY uid");
        while (rows.step()) uids.push_back(rows.column_text(0));
        db.exec("UPDATE client SET policy_dirty = 0");
        return uids;
    };
    dirty();
    BOOST_TEST(collection("debian", std::string("os.name == \"Debian\"")).member_count == 100);
    BOOST_TEST(dirty().empty());
    // Advertised: the advertisement marks its members.
    release_to("ready");
    ads.create(rita, hello_on("debian"));
    BOOST_TEST(dirty() == debian);
    // A targeted collection that had no members gains 100: all marked (in one statement).
    BOOST_TEST(collection("later", std::string("os.name == \"Solaris\"")).member_count == 0);
    ads.create(rita, hello_on("later"));
    BOOST_TEST(dirty().empty());
    Collection later = collections.show(vera, "later");
    later.query = "os.name == \"Debian\"";
    BOOST_TEST(collections.update(rita, later).member_count == 100);
    BOOST_TEST(dirty() == debian);
    // Then to the Windows machine: the 100 that left and the one that came, one by one.
    later.query = "os.name == \"Windows\"";
    BOOST_TEST(collections.update(rita, later).member_count == 1);
    auto moved = debian;
    moved.push_back(win.uid);
    std::sort(moved.begin(), moved.end());
    BOOST_TEST(dirty() == moved);
    // An untargeted collection's members move without marking anyone.
    Collection untargeted;
    BOOST_TEST(collection("windows", std::string("os.name == \"Windows\"")).member_count == 1);
    untargeted = collections.show(vera, "windows");
    untargeted.query = "os.name == \"Debian\"";
    BOOST_TEST(collections.update(rita, untargeted).member_count == 100);
    BOOST_TEST(dirty().empty());
}

// A report re-evaluates a client only in the collections whose query reads what it changed (and
// in those with links). Random change and full reports against seven collections: after each,
// a full re-evaluation of every collection moves nobody, so nothing that mattered was skipped.
BOOST_FIXTURE_TEST_CASE(AReportReEvaluatesOnlyWhatItChangedAndMissesNothing, Site) {
    std::vector<Client> machines;
    for (int i = 0; i < 3; ++i)
        machines.push_back(enrol("ws-" + std::to_string(i), "Debian", 8192, {"nginx"}));
    collection("debian", std::string(R"(os.name == "Debian")"));
    collection("big", std::string("hw.memory_mb >= 4096"));
    collection("web", std::string(R"(software contains "nginx")"));
    collection("curl2", std::string(R"(software contains "curl" version == "2")"));
    collection("no-vim", std::string(R"(not software contains "vim")"));
    collection("named", std::string("has site.name"));
    collection("debian-small", std::nullopt, {}, false, {"debian"}, {"big"});
    BOOST_TEST(collections.refresh_all() == 0);

    std::mt19937 random(42);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
    const char* names[] = {"nginx", "curl", "vim", "zsh"};
    for (int round = 0; round < 300; ++round) {
        const Client& machine = machines[static_cast<std::size_t>(pick(3))];
        const Client current = clients.show(root, machine.uid);
        Inventory report;
        report.seq = current.inventory_seq + 1;
        report.full = pick(3) == 0;
        report.base = current.inventory_seq;
        if (report.full || pick(2) == 0)
            report.facts.push_back({"os.name", pick(2) ? "Debian" : "Ubuntu", std::nullopt});
        if (report.full || pick(2) == 0)
            report.facts.push_back({"hw.memory_mb", "", pick(2) ? 8192.0 : 2048.0});
        if (pick(3) == 0) report.facts.push_back({"site.name", "lab", std::nullopt});
        if (!report.full && pick(4) == 0) report.removed_facts.push_back("site.name");
        for (const char* name : names) {
            const int roll = pick(4);
            if (roll < 2) report.software.push_back({name, std::to_string(1 + roll)});
            if (roll == 3 && !report.full) report.removed_software.push_back(name);
        }
        BOOST_REQUIRE(clients.report_inventory(current, report, [&](const InventoryChange& change) {
            collections.refresh_client(machine.id, &change);
        }));
        BOOST_TEST(collections.refresh_all() == 0, "round " << round);
    }
}

// What a report does not touch is not re-evaluated: a membership set by hand in a collection
// over hw.memory_mb stays through a report that changes only os.name, and is set right by the
// next report that changes the memory.
BOOST_FIXTURE_TEST_CASE(ACollectionWhoseQueryAReportDoesNotReadIsNotEvaluated, Site) {
    const auto machine = enrol("ws-1", "Debian", 8192, {"nginx"});
    const auto big = collection("big", std::string("hw.memory_mb >= 4096"));
    BOOST_TEST(members("big") == std::vector<std::string>{machine.uid});
    db.prepare("DELETE FROM collection_member WHERE collection_id = ?").bind(1, big.id).run();
    auto report = [&](std::vector<Fact> facts) {
        const Client current = clients.show(root, machine.uid);
        Inventory change;
        change.full = false;
        change.seq = current.inventory_seq + 1;
        change.base = current.inventory_seq;
        change.facts = std::move(facts);
        clients.report_inventory(current, change, [&](const InventoryChange& changed) {
            collections.refresh_client(machine.id, &changed);
        });
    };
    report({{"os.name", "Ubuntu", std::nullopt}});
    BOOST_TEST(members("big").empty());
    report({{"hw.memory_mb", "", 16384.0}});
    BOOST_TEST(members("big") == std::vector<std::string>{machine.uid});
}
