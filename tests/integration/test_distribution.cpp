// Distribution points on loopback (issue 5): a site, a DP registered with it, and an agent
// assigned to the DP. The DP replicates the agent's signed policy and the objects it names and
// serves them; the agent installs from the DP; reports go through the DP's durable queue and
// reach the site exactly once, also when the site was down meanwhile; a DP that serves
// corrupted bytes is caught by the agent, which falls back to the site.
#define BOOST_TEST_MODULE distribution
#include <Poco/Net/ServerSocket.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "ferry/sqlite.h"
#include "site_fixture.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

// A free loopback port, for a server that must come back on the same address.
std::uint16_t free_port() {
    Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
    const auto port = probe.address().port();
    probe.close();
    return port;
}

struct Topology {
    TempDir dir;
    std::uint16_t site_port = free_port();
    std::string admin, rita, client_id;
    std::unique_ptr<BackgroundProcess> site;
    std::unique_ptr<BackgroundProcess> dp;
    std::string dp_url;

    Topology() {
        const auto init =
            run_process({FERRYD_BINARY, "init", "--role", "site", "--dir", dir / "site", "--listen",
                         "127.0.0.1:" + std::to_string(site_port)});
        BOOST_TEST_REQUIRE(init.exit_code == 0, init.err);
        admin = init.out.substr(init.out.rfind("admin_"));
        while (!admin.empty() && admin.back() == '\n') admin.pop_back();
        start_site();

        const std::string samples = std::string(FERRY_SOURCE_DIR) + "/samples/packages";
        pack({"keygen", "-o", "pub"});
        BOOST_TEST_REQUIRE(
            ctl({"publisher", "add", "Samples", "--pub", dir / "pub.pub", "--packages", "*"}, admin)
                .exit_code == 0);
        write_big_package();
        for (const std::string name : {"hello-1.0", "hello-1.1", "big-1.0"}) {
            const std::string source = name == "big-1.0" ? dir / "big-src" : samples + "/" + name;
            pack({"build", source, "-o", name + ".ferry", "--key", "pub.key"});
            pack({"push", name + ".ferry", "--server", server(), "--token", admin});
        }
        rita = user("rita", "release-manager");
        const std::string carl = user("carl", "cab");
        BOOST_TEST_REQUIRE(ctl({"rfc", "create", "--title", "DPs"}, rita).exit_code == 0);
        BOOST_TEST_REQUIRE(ctl({"rfc", "approve", "RFC-0001"}, carl).exit_code == 0);
        const auto release = ctl({"release", "create", "--title", "dp", "--rfc", "RFC-0001",
                                  "--package", "hello@1.0,hello@1.1,big@1.0"},
                                 rita);
        BOOST_TEST_REQUIRE(release.exit_code == 0, release.err);
        const std::string ref = release.out.substr(release.out.find("REL-"), 13);
        BOOST_TEST_REQUIRE(ctl({"release", "transition", ref, "building"}, rita).exit_code == 0);
        BOOST_TEST_REQUIRE(ctl({"release", "transition", ref, "testing"}, rita).exit_code == 0);

        // The distribution point: registered by the admin, initialised with its token.
        const auto added = ctl({"dp", "add", "edge", "--json"}, admin);
        BOOST_TEST_REQUIRE(added.exit_code == 0, added.err);
        const auto dp_init =
            run_process({FERRYD_BINARY, "init", "--role", "dp", "--dir", dir / "dp", "--parent",
                         server(), "--token", token_in(added.out), "--listen", "127.0.0.1:0"});
        BOOST_TEST_REQUIRE(dp_init.exit_code == 0, dp_init.err);
        // A round a second, so that the test does not wait for the default five.
        std::string ini = read_file(dir / "dp/ferryd.ini");
        ini.replace(ini.find("sync_interval = 5"), 17, "sync_interval = 1");
        write_file(dir / "dp/ferryd.ini", ini, 0600);
        start_dp();

        // One agent, in the pilot collection, assigned to the DP.
        const auto secret = ctl({"secret", "create", "--json"}, admin);
        const auto enrolled = agent({"enroll", "--server", server(), "--secret",
                                     json_field(secret.out, "secret"), "--hostname", "ws-01"});
        BOOST_TEST_REQUIRE(enrolled.exit_code == 0, enrolled.err);
        client_id = enrolled.out.substr(12, enrolled.out.find(' ', 12) - 12);
        BOOST_TEST_REQUIRE(
            ctl({"collection", "create", "pilot", "--pilot", "--members", client_id}, rita)
                .exit_code == 0);
        const auto assigned = ctl({"dp", "assign", "edge", "--collection", "pilot"}, admin);
        BOOST_TEST_REQUIRE(assigned.exit_code == 0, assigned.err);
    }

    // big 1.0: 6 MiB that do not compress, so a throttled transfer takes a while.
    void write_big_package() {
        write_file(dir / "big-src/ferry.json",
                   R"({"name": "big", "version": "1.0", "publisher": "Tests"})");
        std::string data(6 << 20, '\0');
        std::uint64_t x = 88172645463325252ULL;
        for (auto& c : data) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            c = static_cast<char>(x);
        }
        write_file(dir / "big-src/files/blob", data);
    }

    std::string dp_has(const std::string& id) const {
        return dir / ("dp/objects/" + id.substr(0, 2) + "/" + id);
    }

    std::string server() const { return "http://127.0.0.1:" + std::to_string(site_port); }

    void start_site() {
        site = std::make_unique<BackgroundProcess>(
            std::vector<std::string>{FERRYD_BINARY, "--config", dir / "site/ferryd.ini"});
        site->wait_for_line("listening on", 10s);
    }
    void stop_site() {
        site->signal(SIGTERM);
        site->wait(10s);
        site.reset();
    }
    void start_dp() {
        dp = std::make_unique<BackgroundProcess>(
            std::vector<std::string>{FERRYD_BINARY, "--config", dir / "dp/ferryd.ini"});
        const std::string line = dp->wait_for_line("listening on", 10s);
        dp_url = line.substr(line.find("http://"), line.find(" (parent") - line.find("http://"));
    }

    ProcessResult ctl(const std::vector<std::string>& args, const std::string& as) const {
        std::vector<std::string> argv = {FERRYCTL_BINARY, "--server", server(), "--token", as};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv);
    }
    void pack(std::vector<std::string> args) {
        args.insert(args.begin(), FERRY_PACK_BINARY);
        const auto r = run_process(args, "", dir.path());
        BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    }
    std::string user(const std::string& name, const std::string& role) {
        const auto added = ctl({"user", "add", name, "--role", role, "--json"}, admin);
        BOOST_TEST_REQUIRE(added.exit_code == 0, added.err);
        return token_in(added.out);
    }
    ProcessResult agent(std::vector<std::string> args) const {
        args.insert(args.begin(), FERRY_AGENT_BINARY);
        args.insert(args.end(), {"--state-dir", dir / "agent/state", "--root", dir / "agent/root"});
        return run_process(args);
    }
    std::string advertise(const std::vector<std::string>& options) {
        std::vector<std::string> args = {"advertise"};
        args.insert(args.end(), options.begin(), options.end());
        const auto made = ctl(args, rita);
        BOOST_TEST_REQUIRE(made.exit_code == 0, made.err);
        return made.out.substr(made.out.find("ADV-"), 8);
    }
    // Agent cycles until `list` shows `needle`; the cycles' logs, concatenated.
    std::string cycle_until(const std::string& needle) {
        std::string logs;
        for (int i = 0; i < 100; ++i) {
            logs += agent({"run", "--once"}).err;
            if (contains(agent({"list"}).out, needle)) return logs;
            std::this_thread::sleep_for(200ms);
        }
        BOOST_FAIL("the agent never showed \"" + needle + "\":\n" + agent({"list"}).out + logs);
        return logs;
    }
    // Until the agent holds a policy that names the DP (the DP reports its address on start)
    // and the DP holds that client's policy (it knows the client from the feed).
    void wait_for_dp_in_policy() {
        for (int i = 0; i < 100; ++i) {
            sql::Database db(dir / "dp/dp.db");
            // The version with the advertisement and with the DP's own address.
            auto row = db.prepare(
                "SELECT count(*) FROM policy WHERE client_id = ?1 AND envelope LIKE '%ADV-%' "
                "AND instr(envelope, ?2) > 0");
            row.bind(1, client_id).bind(2, dp_url);
            if (row.step() && row.column_int64(0) > 0) break;
            std::this_thread::sleep_for(100ms);
        }
        for (int i = 0; i < 100; ++i) {
            agent({"run", "--once"});
            sql::Database db(dir / "agent/state/agent.db");
            auto row = db.prepare("SELECT json FROM policy");
            if (row.step() && contains(row.column_text(0), dp_url)) return;
            std::this_thread::sleep_for(100ms);
        }
        BOOST_FAIL("the agent's policy never named the DP " + dp_url);
    }

    std::string current() const {
        std::error_code ec;
        return std::filesystem::read_symlink(dir / "agent/root/hello/current", ec).string();
    }
    // The DP's copy of an object, made writable so a test can damage it.
    std::string dp_object(const std::string& id) const {
        const std::string path = dir / ("dp/objects/" + id.substr(0, 2) + "/" + id);
        ::chmod(path.c_str(), 0644);
        return path;
    }
    std::int64_t dp_queue() const {
        sql::Database db(dir / "dp/dp.db");
        auto row = db.prepare("SELECT count(*) FROM report_queue");
        row.step();
        return row.column_int64(0);
    }
};

std::string object_id_of(const std::string& file) {
    const auto r = run_process({"b2sum", "-l", "256", file});
    return r.out.substr(0, 64);
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(AnAgentInstallsFromItsDistributionPointAndReportsThroughIt, Topology) {
    const std::string ad = advertise({"hello@1.0", "--collection", "pilot", "--mandatory"});
    const std::string id = object_id_of(dir / "hello-1.0.ferry");
    // The DP pre-stages what the advertisement needs.
    for (int i = 0; i < 100 && !path_exists(dir / ("dp/objects/" + id.substr(0, 2) + "/" + id));
         ++i)
        std::this_thread::sleep_for(100ms);
    BOOST_TEST_REQUIRE(path_exists(dir / ("dp/objects/" + id.substr(0, 2) + "/" + id)));

    wait_for_dp_in_policy();
    // From here the agent talks only to the DP: the site must still know it as seen (the DP
    // relays its reports, and its polls as "seen").
    {
        sql::Database site_db(dir / "site/ferry.db");
        site_db.prepare("UPDATE client SET last_seen_at = NULL WHERE uid = ?")
            .bind(1, client_id)
            .run();
    }
    cycle_until("installed");
    BOOST_TEST(current() == "1.0");
    std::string seen;
    for (int i = 0; i < 100 && !contains(seen, "last_seen_at"); ++i) {
        seen = ctl({"client", "show", client_id, "--json"}, admin).out;
        std::this_thread::sleep_for(100ms);
    }
    BOOST_TEST(contains(seen, "last_seen_at"), seen);
    // The status went through the DP's queue and reached the site.
    std::string report;
    for (int i = 0; i < 100 && !contains(report, "installed: 1"); ++i) {
        report = ctl({"advertisement", "status", ad}, admin).out;
        std::this_thread::sleep_for(100ms);
    }
    BOOST_TEST(contains(report, "installed: 1"), report);
    const auto shown = ctl({"dp", "show", "edge"}, admin);
    BOOST_TEST(contains(shown.out, dp_url), shown.out);
    // Its heartbeat says which objects it holds: the site knows where hello 1.0 is.
    std::string dp_json;
    for (int i = 0; i < 100 && !contains(dp_json, id); ++i) {
        dp_json = ctl({"dp", "show", "edge", "--json"}, admin).out;
        std::this_thread::sleep_for(100ms);
    }
    BOOST_TEST(contains(dp_json, "\"held\""), dp_json);
    BOOST_TEST(contains(dp_json, id), dp_json);

    // A client outside the DP's collection: the DP does not replicate its policy.
    const auto secret = ctl({"secret", "create", "--name", "other", "--json"}, admin);
    const auto other = run_process({FERRY_AGENT_BINARY, "enroll", "--server", server(), "--secret",
                                    json_field(secret.out, "secret"), "--state-dir",
                                    dir / "other/state", "--root", dir / "other/root"});
    BOOST_TEST_REQUIRE(other.exit_code == 0, other.err);
    const std::string other_id = other.out.substr(12, other.out.find(' ', 12) - 12);
    std::this_thread::sleep_for(2500ms);  // two DP rounds
    sql::Database db(dir / "dp/dp.db");
    auto count = db.prepare("SELECT count(*) FROM policy WHERE client_id = ?1");
    count.bind(1, other_id);
    count.step();
    BOOST_TEST(count.column_int64(0) == 0);
}

BOOST_FIXTURE_TEST_CASE(WithTheSiteDownReportsQueueAndArriveOnceWhenItReturns, Topology) {
    const std::string ad = advertise({"hello@1.0", "--collection", "pilot", "--mandatory",
                                      "--deadline", "+2d", "--window", "daily 03:00-03:01"});
    cycle_until("waiting");
    wait_for_dp_in_policy();
    stop_site();

    // The site is away: the agent installs from what it has and reports to the DP.
    const auto installed = agent({"install", ad});
    BOOST_TEST(installed.exit_code == 0, installed.err);
    BOOST_TEST(current() == "1.0");
    const auto cycled = agent({"run", "--once"});
    BOOST_TEST(dp_queue() > 0, installed.out + installed.err + cycled.err + agent({"status"}).out);

    start_site();
    for (int i = 0; i < 150 && dp_queue() > 0; ++i) std::this_thread::sleep_for(100ms);
    BOOST_TEST(dp_queue() == 0);
    const auto report = ctl({"advertisement", "status", ad}, admin);
    BOOST_TEST(contains(report.out, "installed: 1"), report.out);
    BOOST_TEST(contains(report.out, "0 not reported"), report.out);
}

BOOST_FIXTURE_TEST_CASE(ADistributionPointServingBadBytesIsCaughtAndTheSiteServes, Topology) {
    const std::string id = object_id_of(dir / "hello-1.1.ferry");
    const std::string ad = advertise({"hello@1.1", "--collection", "pilot", "--mandatory"});
    for (int i = 0; i < 100 && !path_exists(dir / ("dp/objects/" + id.substr(0, 2) + "/" + id));
         ++i)
        std::this_thread::sleep_for(100ms);
    BOOST_TEST_REQUIRE(path_exists(dir / ("dp/objects/" + id.substr(0, 2) + "/" + id)));
    {
        // Same length, one byte different: only the hash can tell.
        std::fstream file(dp_object(id), std::ios::in | std::ios::out | std::ios::binary);
        file.seekg(500);
        const char was = static_cast<char>(file.get());
        file.seekp(500);
        file.put(static_cast<char>(was ^ 0x21));
    }
    wait_for_dp_in_policy();
    const std::string logs = cycle_until("installed");
    BOOST_TEST(current() == "1.1");
    BOOST_TEST(!path_exists(dir / ("agent/state/cache/" + id + ".part")));
}

BOOST_FIXTURE_TEST_CASE(TheScheduleHoldsReplicationAndAKilledTransferResumes, Topology) {
    const std::string id = object_id_of(dir / "big-1.0.ferry");
    const auto bad = ctl({"dp", "schedule", "edge", "Mon 25:00-26:00 1MiB/s"}, admin);
    BOOST_TEST(bad.exit_code == 2);
    BOOST_TEST(contains(bad.err, "schedule rule 1"), bad.err);
    BOOST_TEST_REQUIRE(ctl({"dp", "schedule", "edge", "default paused"}, admin).exit_code == 0);
    // A heartbeat hands the DP its schedule; it says so in its log.
    for (int i = 0;
         i < 200 && !contains(read_file(dp->stderr_path()), "replication schedule: default paused");
         ++i)
        std::this_thread::sleep_for(50ms);
    BOOST_TEST_REQUIRE(
        contains(read_file(dp->stderr_path()), "replication schedule: default paused"));
    advertise({"big@1.0", "--collection", "pilot", "--mandatory"});
    std::this_thread::sleep_for(3s);
    BOOST_TEST(!path_exists(dp_has(id)));  // paused: nothing moves

    // The window opens at 1 MiB/s: the transfer starts; the DP is killed in the middle of it.
    BOOST_TEST_REQUIRE(ctl({"dp", "schedule", "edge", "default 1MiB/s"}, admin).exit_code == 0);
    const std::string part = dir / ("dp/incoming/" + id + ".part");
    std::uintmax_t had = 0;
    for (int i = 0; i < 100 && had < (1u << 20); ++i) {
        std::this_thread::sleep_for(100ms);
        std::error_code ec;
        had = std::filesystem::file_size(part, ec);
        if (ec) had = 0;
    }
    BOOST_TEST_REQUIRE(had >= (1u << 20));
    dp->signal(SIGKILL);
    dp->wait(5s);
    dp.reset();
    BOOST_TEST(!path_exists(dp_has(id)));

    // Restarted with no limit: it continues from the bytes it has, verifies, and stores.
    BOOST_TEST_REQUIRE(ctl({"dp", "schedule", "edge", ""}, admin).exit_code == 0);
    start_dp();
    for (int i = 0; i < 150 && !path_exists(dp_has(id)); ++i) std::this_thread::sleep_for(100ms);
    BOOST_TEST(path_exists(dp_has(id)));
    BOOST_TEST(object_id_of(dp_has(id)) == id);
    dp->signal(SIGTERM);
    dp->wait(10s);
    const std::string log = read_file(dp->stderr_path());
    BOOST_TEST(contains(log, "resumed at byte"), log);
}

BOOST_FIXTURE_TEST_CASE(ASecondTierDistributionPointServesThroughTheFirst, Topology) {
    // "branch" replicates from "edge", not from the site; the pilot moves to it.
    const auto added = ctl({"dp", "add", "branch", "--json"}, admin);
    BOOST_TEST_REQUIRE(added.exit_code == 0, added.err);
    const auto init =
        run_process({FERRYD_BINARY, "init", "--role", "dp", "--dir", dir / "dp2", "--parent",
                     dp_url, "--token", token_in(added.out), "--listen", "127.0.0.1:0"});
    BOOST_TEST_REQUIRE(init.exit_code == 0, init.err);
    std::string ini = read_file(dir / "dp2/ferryd.ini");
    ini.replace(ini.find("sync_interval = 5"), 17, "sync_interval = 1");
    write_file(dir / "dp2/ferryd.ini", ini, 0600);
    BackgroundProcess branch({FERRYD_BINARY, "--config", dir / "dp2/ferryd.ini"});
    const std::string line = branch.wait_for_line("listening on", 10s);
    const std::string branch_url =
        line.substr(line.find("http://"), line.find(" (parent") - line.find("http://"));
    BOOST_TEST_REQUIRE(ctl({"dp", "assign", "edge", "--none"}, admin).exit_code == 0);
    for (int i = 0; i < 100 && !contains(ctl({"dp", "show", "branch"}, admin).out, branch_url); ++i)
        std::this_thread::sleep_for(100ms);
    BOOST_TEST_REQUIRE(ctl({"dp", "assign", "branch", "--collection", "pilot"}, admin).exit_code ==
                       0);

    const std::string id = object_id_of(dir / "hello-1.1.ferry");
    const std::string ad = advertise({"hello@1.1", "--collection", "pilot", "--mandatory"});
    const std::string at_branch = dir / ("dp2/objects/" + id.substr(0, 2) + "/" + id);
    for (int i = 0; i < 150 && !path_exists(at_branch); ++i) std::this_thread::sleep_for(100ms);
    BOOST_TEST_REQUIRE(path_exists(at_branch));
    BOOST_TEST(path_exists(dp_has(id)));  // it came through edge, which keeps a copy

    for (int i = 0; i < 100; ++i) {  // the agent's policy names branch
        agent({"run", "--once"});
        sql::Database db(dir / "agent/state/agent.db");
        auto row = db.prepare("SELECT json FROM policy");
        if (row.step() && contains(row.column_text(0), branch_url)) break;
        std::this_thread::sleep_for(100ms);
    }
    cycle_until("installed");
    BOOST_TEST(current() == "1.1");
    std::string report;
    for (int i = 0; i < 100 && !contains(report, "installed: 1"); ++i) {
        report = ctl({"advertisement", "status", ad}, admin).out;
        std::this_thread::sleep_for(100ms);
    }
    BOOST_TEST(contains(report, "installed: 1"), report);
}

// The DP drops what it no longer serves, so a client that moved away is not held on its last
// policy there: the DP answers 404, the agent asks the site, and the site's policy no longer
// names the DP.
BOOST_FIXTURE_TEST_CASE(ClientsThatLeaveADistributionPointAreDroppedThere, Topology) {
    advertise({"hello@1.0", "--collection", "pilot", "--mandatory"});
    wait_for_dp_in_policy();
    auto dp_holds_policy = [&] {
        sql::Database db(dir / "dp/dp.db");
        auto row = db.prepare("SELECT count(*) FROM policy WHERE client_id = ?1");
        row.bind(1, client_id);
        row.step();
        return row.column_int64(0) > 0;
    };
    auto wait_until_dropped = [&] {
        for (int i = 0; i < 100 && dp_holds_policy(); ++i) std::this_thread::sleep_for(100ms);
        BOOST_TEST_REQUIRE(!dp_holds_policy());
    };
    auto agent_policy_names_dp = [&] {
        agent({"run", "--once"});
        sql::Database db(dir / "agent/state/agent.db");
        auto row = db.prepare("SELECT json FROM policy");
        return row.step() && contains(row.column_text(0), dp_url);
    };

    // The client leaves the collection the DP serves.
    BOOST_TEST_REQUIRE(
        ctl({"collection", "create", "nobody", "--pilot", "--query", "hostname == \"nobody\""},
            rita)
            .exit_code == 0);
    const auto left = ctl(
        {"collection", "update", "pilot", "--pilot", "--query", "hostname == \"nobody\""}, rita);
    BOOST_TEST_REQUIRE(left.exit_code == 0, left.err);
    wait_until_dropped();
    bool named = true;
    for (int i = 0; i < 50 && named; ++i) named = agent_policy_names_dp();
    BOOST_TEST(!named);

    // Back in, the DP fetches it again; then the DP is given another collection.
    BOOST_TEST_REQUIRE(
        ctl({"collection", "update", "pilot", "--pilot", "--members", client_id}, rita).exit_code ==
        0);
    for (int i = 0; i < 100 && !dp_holds_policy(); ++i) std::this_thread::sleep_for(100ms);
    BOOST_TEST_REQUIRE(dp_holds_policy());
    BOOST_TEST_REQUIRE(ctl({"dp", "assign", "edge", "--collection", "nobody"}, admin).exit_code ==
                       0);
    wait_until_dropped();
    named = true;
    for (int i = 0; i < 50 && named; ++i) named = agent_policy_names_dp();
    BOOST_TEST(!named);
}

BOOST_FIXTURE_TEST_CASE(ServingClientsKeepsToTheConfiguredLimit, Topology) {
    // 2 MiB/s for all clients together: 6 MiB take about three seconds, never much less.
    dp->signal(SIGTERM);
    dp->wait(10s);
    std::string ini = read_file(dir / "dp/ferryd.ini");
    ini.replace(ini.find("serve_limit = "), 14, "serve_limit = 2MiB/s");
    write_file(dir / "dp/ferryd.ini", ini, 0600);
    start_dp();

    const std::string id = object_id_of(dir / "big-1.0.ferry");
    advertise({"big@1.0", "--collection", "pilot", "--mandatory"});
    for (int i = 0; i < 150 && !path_exists(dp_has(id)); ++i) std::this_thread::sleep_for(100ms);
    BOOST_TEST_REQUIRE(path_exists(dp_has(id)));
    std::string token;
    {
        sql::Database db(dir / "agent/state/agent.db");
        auto row = db.prepare("SELECT token FROM enrolment");
        BOOST_TEST_REQUIRE(row.step());
        token = row.column_text(0);
    }
    const auto port = port_from(dp_url);
    const auto start = std::chrono::steady_clock::now();
    const auto answer = http(port, "GET", "/api/v1/objects/" + id, token);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST(answer.status == 200);
    BOOST_TEST(answer.body.size() == std::filesystem::file_size(dir / "big-1.0.ferry"));
    BOOST_TEST(seconds >= 2.5, seconds << " s for 6 MiB at 2 MiB/s");
}

BOOST_FIXTURE_TEST_CASE(AReplicaHoldsTheWholeLibraryAndALostSiteIsRebuiltFromIt, Topology) {
    const auto on = ctl({"dp", "replica", "edge", "--on"}, admin);
    BOOST_TEST_REQUIRE(on.exit_code == 0, on.err);
    std::vector<std::string> ids;
    for (const std::string name : {"hello-1.0", "hello-1.1", "big-1.0"})
        ids.push_back(object_id_of(dir / (name + ".ferry")));
    // Nothing is advertised, yet the replica takes every object of the library.
    const auto all_there = [&] {
        for (const auto& id : ids)
            if (!path_exists(dp_has(id))) return false;
        return true;
    };
    for (int i = 0; i < 200 && !all_there(); ++i) std::this_thread::sleep_for(100ms);
    BOOST_TEST_REQUIRE(all_there());

    // The site loses its objects; they come back from the replica (docs/distribution.md).
    stop_site();
    std::filesystem::remove_all(dir / "site/objects");
    std::filesystem::copy(dir / "dp/objects", dir / "site/objects",
                          std::filesystem::copy_options::recursive);
    start_site();
    for (const auto& id : ids) {
        const auto answer = http(site_port, "GET", "/api/v1/objects/" + id, admin);
        BOOST_TEST(answer.status == 200);
        BOOST_TEST(answer.body.size() > 0);
    }
    const auto pulled =
        run_process({FERRYCTL_BINARY, "--server", server(), "--token", admin, "package", "list"});
    BOOST_TEST(contains(pulled.out, "big"), pulled.out);
}

// The DP answers an idle poll on its front's loop (server/dp_idle_poll_answers.cpp) exactly as
// its handler would, and still tells the site that the client was seen.
BOOST_FIXTURE_TEST_CASE(IdlePollsAtADistributionPointAreTheHandlersAnswer, Topology) {
    advertise({"hello@1.0", "--collection", "pilot"});
    wait_for_dp_in_policy();
    std::string token;
    {
        sql::Database agent_db(dir / "agent/state/agent.db");
        auto row = agent_db.prepare("SELECT token FROM enrolment");
        BOOST_TEST_REQUIRE(row.step());
        token = row.column_text(0);
    }
    const std::uint16_t dp_port = port_from(dp_url);
    const std::string path = "/api/v1/clients/" + client_id + "/policy";
    const auto full = http(dp_port, "GET", path, token);
    BOOST_TEST_REQUIRE(full.status == 200, full.body);
    const std::string etag = full.headers.at("ETag");
    const std::string rest = " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                             "\r\nIf-None-Match: " + etag + "\r\n\r\n";
    const std::string handler = raw_head(dp_port, "GET " + path + "?x=1" + rest);
    BOOST_TEST(handler.rfind("HTTP/1.1 304 Not Modified\r\n", 0) == 0, handler);
    {
        sql::Database site_db(dir / "site/ferry.db");
        site_db.prepare("UPDATE client SET last_seen_at = NULL WHERE uid = ?")
            .bind(1, client_id)
            .run();
    }
    const std::string loop = raw_head(dp_port, "GET " + path + rest);
    BOOST_TEST(without_date(loop) == without_date(handler));
    // Another client's policy, a stale ETag: the handler's 403 and 200.
    BOOST_TEST(raw_head(dp_port, "GET /api/v1/clients/cl_0000000000000000/policy" + rest)
                   .rfind("HTTP/1.1 403 ", 0) == 0);
    BOOST_TEST(http(dp_port, "GET", path, token, "", {{"If-None-Match", "\"v0-0\""}}).status ==
               200);
    // The DP relays the sighting: the site sees the client again.
    std::string seen;
    for (int i = 0; i < 150 && !contains(seen, "last_seen_at"); ++i) {
        seen = ctl({"client", "show", client_id, "--json"}, admin).out;
        std::this_thread::sleep_for(100ms);
    }
    BOOST_TEST(contains(seen, "last_seen_at"), seen);
}
