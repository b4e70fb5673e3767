// The site as an admin walks it (issue 3, "how it will be checked"): packages pushed and
// trusted, an RFC approved by the CAB, a release through its readiness review, clients
// enrolled with inventory, collections from that inventory, advertisements under the gates, a
// signed policy that minisign itself verifies, 304s on idle polls, status reports, the change
// log — and the same after a restart. Then the server-side THREATS cases (28–30).
#define BOOST_TEST_MODULE ferryd_release_path
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <optional>
#include <thread>

#include "ferry/sqlite.h"
#include "site_fixture.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

struct EnrolledClient {
    std::string id;
    std::string token;
};

// A site with the sample package hello 1.0 pushed by a trusted publisher, and the people of
// the release process: rita (release manager), carl and cleo (CAB), vera (viewer).
struct Library : RunningSite {
    std::string rita, carl, cleo, vera;

    Library() {
        const std::string samples = std::string(FERRY_SOURCE_DIR) + "/samples/packages";
        auto pack = [&](std::vector<std::string> args) {
            args.insert(args.begin(), FERRY_PACK_BINARY);
            const auto r = run_process(args, "", dir.path());
            BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
            return r;
        };
        pack({"keygen", "-o", "pub"});
        pack({"build", samples + "/hello-1.0", "-o", "hello.ferry", "--key", "pub.key"});
        const auto trust =
            ctl({"publisher", "add", "Samples", "--pub", dir / "pub.pub", "--packages", "hello"},
                token);
        BOOST_TEST_REQUIRE(trust.exit_code == 0, trust.err);
        pack({"push", "hello.ferry", "--server", server(), "--token", token});
        rita = user("rita", "release-manager");
        carl = user("carl", "cab");
        cleo = user("cleo", "cab");
        vera = user("vera", "viewer");
    }

    std::string user(const std::string& name, const std::string& role) {
        const auto added = ctl({"user", "add", name, "--role", role, "--json"}, token);
        BOOST_TEST_REQUIRE(added.exit_code == 0, added.err);
        return token_in(added.out);
    }

    EnrolledClient enrol(const std::string& secret, const std::string& hostname) {
        const auto answer =
            http(port, "POST", "/api/v1/clients/enroll", "",
                 R"({"secret": ")" + secret + R"(", "hostname": ")" + hostname + R"("})");
        BOOST_TEST_REQUIRE(answer.status == 201, answer.body);
        return {json_field(answer.body, "client_id"), token_in(answer.body)};
    }

    void inventory(const EnrolledClient& client, const std::string& os, int memory_mb,
                   const std::string& software) {
        const auto answer = http(
            port, "POST", "/api/v1/clients/" + client.id + "/inventory", client.token,
            R"({"full": true, "seq": 1, "facts": {"os.name": ")" + os + R"(", "hw.memory_mb": )" +
                std::to_string(memory_mb) + R"(, "hw.cores": 4}, "software": [{"name": ")" +
                software + R"(", "version": "1.0"}]})");
        BOOST_TEST_REQUIRE(answer.status == 200, answer.body);
    }

    // Polls until the policy exists and names `needle` (the builder runs in the background).
    HttpAnswer policy_with(const EnrolledClient& client, const std::string& needle) {
        HttpAnswer answer;
        for (int i = 0; i < 100; ++i) {
            answer = http(port, "GET", "/api/v1/clients/" + client.id + "/policy", client.token);
            if (answer.status == 200 && contains(answer.body, needle)) return answer;
            std::this_thread::sleep_for(100ms);
        }
        BOOST_FAIL("no policy with " + needle + " for " + client.id + ": " + answer.body);
        return answer;
    }

    std::string secret(const std::vector<std::string>& options = {}) {
        std::vector<std::string> args = {"secret", "create"};
        args.insert(args.end(), options.begin(), options.end());
        args.push_back("--json");
        const auto created = ctl(args, token);
        BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
        return json_field(created.out, "secret");
    }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(AnRfcBecomesADeployingReleaseWithSignedPolicies, Library) {
    // Change management: an RFC, approved by the CAB (not by its requester).
    BOOST_TEST_REQUIRE(ctl({"rfc", "create", "--title", "Roll out hello 1.0"}, rita).exit_code ==
                       0);
    BOOST_TEST(ctl({"rfc", "approve", "RFC-0001"}, carl).exit_code == 0);

    // Clients enrol with a secret and report inventory.
    const std::string secret = this->secret({"--name", "lab"});
    const auto ws1 = enrol(secret, "ws-01");
    const auto ws2 = enrol(secret, "ws-02");
    const auto small = enrol(secret, "ws-03");
    inventory(ws1, "Debian", 8192, "bash");
    inventory(ws2, "Debian", 16384, "nginx");
    inventory(small, "Debian", 2048, "bash");
    const auto shown = ctl({"client", "show", ws1.id}, vera);
    BOOST_TEST(contains(shown.out, "os.name = Debian"), shown.out);
    BOOST_TEST(contains(shown.out, "bash 1.0"), shown.out);

    // Collections from inventory: a pilot, and production.
    const auto pilot = ctl({"collection", "create", "pilot", "--pilot", "--members", ws1.id}, rita);
    BOOST_TEST_REQUIRE(pilot.exit_code == 0, pilot.err);
    const auto production =
        ctl({"collection", "create", "debian-4g", "--query",
             R"(os.name == "Debian" and hw.memory_mb >= 4096 and not software contains "nginx")"},
            rita);
    BOOST_TEST_REQUIRE(production.exit_code == 0, production.err);
    BOOST_TEST(contains(production.out, "1 member(s)"), production.out);
    const auto members = ctl({"collection", "members", "debian-4g"}, vera);
    BOOST_TEST(members.out == ws1.id + "\n");

    // A release carries the approved RFC and the package.
    const auto created = ctl({"release", "create", "--title", "hello 1.0", "--rfc", "RFC-0001",
                              "--package", "hello@1.0", "--priority", "high"},
                             rita);
    BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
    BOOST_TEST(contains(created.out, "REL-"), created.out);
    const std::string ref = created.out.substr(created.out.find("REL-"), 13);

    // Gates: nothing is advertised before testing; production not before ready.
    const auto too_early = ctl({"advertise", "hello@1.0", "--collection", "pilot"}, rita);
    BOOST_TEST(too_early.exit_code == 1);
    BOOST_TEST(contains(too_early.err, ref + " is planning; a pilot collection needs the release "
                                             "testing"),
               too_early.err);
    BOOST_TEST(ctl({"release", "transition", ref, "building"}, rita).exit_code == 0);
    BOOST_TEST(ctl({"release", "transition", ref, "testing"}, rita).exit_code == 0);
    const auto piloted = ctl({"advertise", "hello@1.0", "--collection", "pilot", "--window",
                              "Mon-Fri 22:00-06:00", "--postpone-max", "2"},
                             rita);
    BOOST_TEST_REQUIRE(piloted.exit_code == 0, piloted.err);
    BOOST_TEST(contains(piloted.out, "ADV-0001  active  install hello@1.0 on pilot"), piloted.out);
    const auto gated = ctl({"advertise", "hello@1.0", "--collection", "debian-4g"}, rita);
    BOOST_TEST(gated.exit_code == 1);
    BOOST_TEST(contains(gated.err, ref + " is testing; collection debian-4g is production: the "
                                         "release must be ready"),
               gated.err);

    // The readiness review: each item by its role; ready only with every item go.
    const auto not_ready = ctl({"release", "transition", ref, "ready"}, rita);
    BOOST_TEST(not_ready.exit_code == 1);
    BOOST_TEST(contains(not_ready.err, ref + " is testing; ready needs: a go on readiness item(s) "
                                             "1, 2, 3"),
               not_ready.err);
    const auto wrong_role = ctl({"release", "review", ref, "6", "--go"}, rita);
    BOOST_TEST(wrong_role.exit_code == 1);
    BOOST_TEST(contains(wrong_role.err, "signed by the cab role"), wrong_role.err);
    for (int item : {1, 2, 3, 4, 5, 8})
        BOOST_TEST(ctl({"release", "review", ref, std::to_string(item), "--go"}, rita).exit_code ==
                   0);
    for (int item : {6, 11})
        BOOST_TEST(ctl({"release", "review", ref, std::to_string(item), "--go"}, cleo).exit_code ==
                   0);
    for (int item : {7, 9, 10})
        BOOST_TEST(
            ctl({"release", "review", ref, std::to_string(item), "--go", "--note", "ok"}, token)
                .exit_code == 0);
    BOOST_TEST(ctl({"release", "transition", ref, "ready"}, rita).exit_code == 0);
    const auto deployed = ctl(
        {"advertise", "hello@1.0", "--collection", "debian-4g", "--mandatory", "--deadline", "+2d"},
        rita);
    BOOST_TEST_REQUIRE(deployed.exit_code == 0, deployed.err);
    BOOST_TEST(contains(ctl({"release", "show", ref}, vera).out, ref + "  deploying"));

    // The client's policy: signed by the site key, for this client, with the newer of the two
    // advertisements of hello (one per package: docs/operations.md).
    const auto policy = policy_with(ws1, "ADV-0002");
    BOOST_TEST(!contains(policy.body, "ADV-0001"));
    const auto written = ctl({"client", "policy", ws1.id, "--out", dir / "policy.json"}, token);
    BOOST_TEST_REQUIRE(written.exit_code == 0, written.err);
    if (have_program("minisign")) {
        const auto verified = run_process(
            {"minisign", "-V", "-m", dir / "policy.json", "-p", dir / "site/keys/site.pub"});
        BOOST_TEST(verified.exit_code == 0, verified.err);
        BOOST_TEST(contains(verified.out, "client:" + ws1.id), verified.out);
    }
    const std::string etag = policy.headers.at("ETag");
    const auto idle = http(port, "GET", "/api/v1/clients/" + ws1.id + "/policy", ws1.token, "",
                           {{"If-None-Match", etag}});
    BOOST_TEST(idle.status == 304);
    BOOST_TEST(idle.body.empty());
    // ws-03 (2 GiB) is in no collection: its policy has no advertisement.
    BOOST_TEST(!contains(policy_with(small, "\"version\"").body, "ADV-"));

    // Status: batched, idempotent on resend, reported per advertisement.
    const std::string batch =
        R"({"messages": [{"seq": 1, "advertisement": "ADV-0002", "state": "downloading", "at": 1},
                         {"seq": 2, "advertisement": "ADV-0002", "state": "installed", "exit_code": 0, "log_tail": "hello 1.0 installed\n", "at": 2}]})";
    const auto first = http(port, "POST", "/api/v1/status", ws1.token, batch);
    BOOST_TEST(first.status == 200, first.body);
    BOOST_TEST(contains(first.body, "\"new\": 2"), first.body);
    const auto resent = http(port, "POST", "/api/v1/status", ws1.token, batch);
    BOOST_TEST(contains(resent.body, "\"duplicates\": 2"), resent.body);
    const auto report = ctl({"advertisement", "status", "ADV-0002"}, vera);
    BOOST_TEST(contains(report.out, "installed: 1"), report.out);
    BOOST_TEST(contains(report.out, "1 client(s) targeted, 0 not reported yet"), report.out);

    // The change log has every step, with who and before/after.
    const auto log = ctl({"changelog"}, vera);
    for (const char* step : {"rfc.approve", "release.create", "release.review", "collection.create",
                             "advertisement.create", "client.enrol"})
        BOOST_TEST(contains(log.out, step), step);
    BOOST_TEST(contains(log.out, "ready -> deploying: first production advertisement"), log.out);

    // /metrics counts what the site holds.
    const auto metrics = http(port, "GET", "/metrics").body;
    BOOST_TEST(contains(metrics, "ferryd_clients{state=\"active\"} 3"), metrics);
    BOOST_TEST(contains(metrics, "ferryd_objects 1"), metrics);
    BOOST_TEST(contains(metrics, "ferryd_advertisements_active 2"), metrics);
    BOOST_TEST(contains(metrics, "ferryd_policies 3"), metrics);

    // A restart keeps everything: the same policy bytes (an idle poll is still a 304).
    ferryd.signal(SIGTERM);
    BOOST_TEST(ferryd.wait(10s) == 0);
    BackgroundProcess again({FERRYD_BINARY, "--config", config()});
    port = port_from(again.wait_for_line("listening on", 10s));
    BOOST_TEST(http(port, "GET", "/api/v1/clients/" + ws1.id + "/policy", ws1.token, "",
                    {{"If-None-Match", etag}})
                   .status == 304);
    BOOST_TEST(contains(ctl({"release", "show", ref}, vera).out, "deploying"));
}

BOOST_FIXTURE_TEST_CASE(HaltingAnAdvertisementReachesThePolicy, Library) {
    ctl({"rfc", "create", "--title", "t"}, rita);
    ctl({"rfc", "approve", "RFC-0001"}, carl);
    const auto ws = enrol(secret(), "ws-01");
    inventory(ws, "Debian", 8192, "bash");
    BOOST_TEST_REQUIRE(
        ctl({"collection", "create", "p", "--pilot", "--query", "has os.name"}, rita).exit_code ==
        0);
    ctl({"release", "create", "--title", "t", "--rfc", "RFC-0001", "--package", "hello@1.0"}, rita);
    const auto list = ctl({"release", "list", "--json"}, rita);
    const std::string ref = json_field(list.out, "reference");
    ctl({"release", "transition", ref, "building"}, rita);
    ctl({"release", "transition", ref, "testing"}, rita);
    BOOST_TEST_REQUIRE(ctl({"advertise", "hello@1.0", "--collection", "p"}, rita).exit_code == 0);
    const auto before = policy_with(ws, "\\\"rollout_state\\\": \\\"active\\\"");
    const auto viewer_halt = ctl({"advertisement", "halt", "ADV-0001"}, vera);
    BOOST_TEST(viewer_halt.exit_code == 1);
    BOOST_TEST(contains(viewer_halt.err, "role viewer may not"), viewer_halt.err);
    BOOST_TEST(
        ctl({"advertisement", "halt", "ADV-0001", "--reason", "pilot crashed"}, rita).exit_code ==
        0);
    const auto halted = policy_with(ws, "\\\"rollout_state\\\": \\\"halted\\\"");
    BOOST_TEST(halted.headers.at("ETag") != before.headers.at("ETag"));
    const auto twice = ctl({"advertisement", "halt", "ADV-0001"}, rita);
    BOOST_TEST(twice.exit_code == 1);
    BOOST_TEST(contains(twice.err, "ADV-0001 is halted"), twice.err);
}

BOOST_FIXTURE_TEST_CASE(EnrolmentChecksSecretsAndApproval, Library) {
    const auto bad =
        http(port, "POST", "/api/v1/clients/enroll", "",
             R"({"secret": "enrol_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "hostname": "x"})");
    BOOST_TEST(bad.status == 401);
    BOOST_TEST(contains(bad.body, "enrolment refused"), bad.body);
    const std::string once = secret({"--name", "once", "--uses", "1"});
    enrol(once, "ws-01");
    BOOST_TEST(http(port, "POST", "/api/v1/clients/enroll", "",
                    R"({"secret": ")" + once + R"(", "hostname": "ws-02"})")
                   .status == 401);
    const auto bad_host = http(port, "POST", "/api/v1/clients/enroll", "",
                               R"({"secret": ")" + once + R"(", "hostname": "a b"})");
    BOOST_TEST(bad_host.status == 400);
    BOOST_TEST(contains(bad_host.body, "field \\\"hostname\\\""), bad_host.body);

    // A secret that needs approval: the client waits, then gets its policy.
    const auto pending = enrol(secret({"--name", "guarded", "--approve"}), "ws-09");
    const auto waiting =
        http(port, "GET", "/api/v1/clients/" + pending.id + "/policy", pending.token);
    BOOST_TEST(waiting.status == 403);
    BOOST_TEST(contains(waiting.body, "is pending; an admin must approve it"), waiting.body);
    BOOST_TEST(ctl({"client", "approve", pending.id}, vera).exit_code == 1);
    BOOST_TEST(ctl({"client", "approve", pending.id}, token).exit_code == 0);
    policy_with(pending, "\"version\"");

    // A revoked client is a stranger; a revoked secret enrols nobody.
    BOOST_TEST(ctl({"client", "revoke", pending.id}, token).exit_code == 0);
    BOOST_TEST(
        http(port, "GET", "/api/v1/clients/" + pending.id + "/policy", pending.token).status ==
        401);
    const std::string later = secret({"--name", "later"});
    BOOST_TEST(ctl({"secret", "revoke", "later"}, token).exit_code == 0);
    BOOST_TEST(http(port, "POST", "/api/v1/clients/enroll", "",
                    R"({"secret": ")" + later + R"(", "hostname": "ws-10"})")
                   .status == 401);
}

BOOST_FIXTURE_TEST_CASE(ClientsActOnlyAsThemselves, Library) {  // THREATS 28
    const std::string s = secret();
    const auto a = enrol(s, "ws-a");
    const auto b = enrol(s, "ws-b");
    const auto other = http(port, "GET", "/api/v1/clients/" + b.id + "/policy", a.token);
    BOOST_TEST(other.status == 403);
    BOOST_TEST(contains(other.body, "may act only as itself"), other.body);
    BOOST_TEST(http(port, "POST", "/api/v1/clients/" + b.id + "/inventory", a.token,
                    R"({"full": true, "seq": 1})")
                   .status == 403);
    // A client token is not an admin token, and no token is nobody.
    BOOST_TEST(http(port, "GET", "/api/v1/clients", a.token).status == 403);
    BOOST_TEST(http(port, "GET", "/api/v1/releases", a.token).status == 403);
    // Objects, which its policy names, it may download.
    const std::string object =
        json_field(http(port, "GET", "/api/v1/packages/hello", vera).body, "object_id");
    BOOST_TEST(http(port, "GET", "/api/v1/objects/" + object, a.token).status == 200);
    BOOST_TEST(http(port, "GET", "/api/v1/clients/" + a.id + "/policy").status == 401);
    BOOST_TEST(http(port, "POST", "/api/v1/status", "", R"({"messages": []})").status == 401);
    // Admins see a client's policy only when it has one; errors say why, in the status line too.
    const auto pending_policy =
        http(port, "GET", "/api/v1/clients/cl_0000000000000000/policy", token);
    BOOST_TEST(pending_policy.status == 404);
    BOOST_TEST(contains(pending_policy.body, "no client cl_0000000000000000"), pending_policy.body);
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    Poco::Net::HTTPRequest probe("GET", "/api/v1/releases");
    session.sendRequest(probe);
    Poco::Net::HTTPResponse response;
    session.receiveResponse(response);
    BOOST_TEST(response.getReason() == "Unauthorized");
    // Raw path segments never become metrics labels.
    http(port, "GET", "/api/v1/clients/" + a.id + "/zzzz-unique-label", a.token);
    const auto metrics = http(port, "GET", "/metrics").body;
    BOOST_TEST(!contains(metrics, "zzzz-unique-label"));
    BOOST_TEST(contains(metrics, "/api/v1/clients/{id}/{other}"), metrics);
    // Status for an advertisement that does not exist is refused, naming it.
    const auto unknown = http(
        port, "POST", "/api/v1/status", a.token,
        R"({"messages": [{"seq": 1, "advertisement": "ADV-0042", "state": "installed", "at": 1}]})");
    BOOST_TEST(unknown.status == 404);
    BOOST_TEST(contains(unknown.body, "ADV-0042"), unknown.body);
    const auto bad_state =
        http(port, "POST", "/api/v1/status", a.token,
             R"({"messages": [{"seq": 1, "advertisement": "ADV-1", "state": "pwned", "at": 1}]})");
    BOOST_TEST(bad_state.status == 400);
    BOOST_TEST(contains(bad_state.body, "messages[0].state"), bad_state.body);
}

BOOST_FIXTURE_TEST_CASE(InventoryChangesApplyOnlyOnTheirBase, Library) {
    const auto ws = enrol(secret(), "ws-01");
    inventory(ws, "Debian", 4096, "bash");
    const std::string path = "/api/v1/clients/" + ws.id + "/inventory";
    const auto change = http(
        port, "POST", path, ws.token,
        R"({"full": false, "seq": 2, "base": 1, "facts": {"hw.memory_mb": 8192}, "removed_software": ["bash"], "software": [{"name": "zsh", "version": "5.9"}]})");
    BOOST_TEST(change.status == 200, change.body);
    const auto shown = ctl({"client", "show", ws.id}, token);
    BOOST_TEST(contains(shown.out, "hw.memory_mb = 8192"), shown.out);
    BOOST_TEST(contains(shown.out, "zsh 5.9"), shown.out);
    BOOST_TEST(!contains(shown.out, "bash"), shown.out);
    const auto stale = http(port, "POST", path, ws.token,
                            R"({"full": false, "seq": 4, "base": 3, "facts": {"x": 1}})");
    BOOST_TEST(stale.status == 409);
    BOOST_TEST(contains(stale.body, "send a full inventory"), stale.body);
    // A resend of an applied report changes nothing.
    const auto resend =
        http(port, "POST", path, ws.token,
             R"({"full": false, "seq": 2, "base": 1, "facts": {"hw.memory_mb": 1}})");
    BOOST_TEST(contains(resend.body, "\"changed\": false"), resend.body);
    const auto bad_key = http(port, "POST", path, ws.token,
                              R"({"full": true, "seq": 9, "facts": {"OS Name'; --": "x"}})");
    BOOST_TEST(bad_key.status == 400);
    BOOST_TEST(contains(bad_key.body, "is not a fact name"), bad_key.body);
}

BOOST_FIXTURE_TEST_CASE(HostileStringsStayData, Library) {  // THREATS 29-30
    const auto ws = enrol(secret(), "ws-01");
    const std::string evil = R"(x'); DROP TABLE client; --)";
    inventory(ws, evil, 4096, evil);
    // Through the query language: a literal stays a literal, a bad query names its column.
    const auto as_data =
        http(port, "POST", "/api/v1/collections", rita,
             R"({"name": "evil", "query": "os.name == \"x'); DROP TABLE client; --\""})");
    BOOST_TEST(as_data.status == 201, as_data.body);
    BOOST_TEST(contains(as_data.body, "\"member_count\": 1"), as_data.body);
    const auto broken = http(port, "POST", "/api/v1/collections", rita,
                             R"({"name": "bad", "query": "os.name == 'x' OR 1=1 --"})");
    BOOST_TEST(broken.status == 400);
    BOOST_TEST(contains(broken.body, "column 12"), broken.body);
    const auto preview = http(port, "POST", "/api/v1/collections/preview", vera,
                              R"({"query": "hw.memory_mb >= ) or 1=1"})");
    BOOST_TEST(contains(preview.body, "\"valid\": false"), preview.body);
    BOOST_TEST(contains(preview.body, "\"column\": 17"), preview.body);
    // Names and references that are not ours are refused or not found, never interpreted.
    BOOST_TEST(http(port, "GET", "/api/v1/releases/REL-2026-0001' OR '1'='1", vera).status == 404);
    BOOST_TEST(http(port, "GET", "/api/v1/collections/x%27%20OR%201%3D1", vera).status == 404);
    BOOST_TEST(http(port, "GET", "/api/v1/clients/..%2F..%2Fetc", vera).status == 404);
    BOOST_TEST(http(port, "POST", "/api/v1/releases", rita,
                    R"({"title": "t", "rfcs": ["RFC-1 OR 1=1"], "packages": ["hello@1.0"]})")
                   .status == 400);
    // Query parameters that are not numbers in range name themselves.
    for (const char* path :
         {"/api/v1/changelog?limit=0", "/api/v1/clients?after=-1", "/api/v1/feed?after=1e9",
          "/api/v1/collections/evil/members?limit=x"}) {
        const auto bad = http(port, "GET", path, token);
        BOOST_TEST(bad.status == 400, path);
        BOOST_TEST(contains(bad.body, "query parameter"), bad.body);
    }
    // Malformed and oversized bodies.
    BOOST_TEST(http(port, "POST", "/api/v1/collections", rita, "{\"name\": ").status == 400);
    BOOST_TEST(http(port, "POST", "/api/v1/collections", rita, std::string(70 << 10, '[')).status ==
               413);
    const auto unknown_field =
        http(port, "POST", "/api/v1/collections", rita, R"({"name": "x", "qeury": "has a"})");
    BOOST_TEST(unknown_field.status == 400);
    BOOST_TEST(contains(unknown_field.body, "qeury"), unknown_field.body);
    sql::Database db(dir / "site/ferry.db");
    sql::Statement count = db.prepare("SELECT count(*) FROM client");
    BOOST_REQUIRE(count.step());
    BOOST_TEST(count.column_int64(0) == 1);
}

BOOST_FIXTURE_TEST_CASE(RetiredObjectsAreCollectedOnlyWhenNothingReferencesThem, Library) {
    const std::string object =
        json_field(http(port, "GET", "/api/v1/packages/hello", vera).body, "object_id");
    BOOST_TEST_REQUIRE(object.size() == 64u);
    ctl({"rfc", "create", "--title", "t"}, rita);
    ctl({"rfc", "approve", "RFC-0001"}, carl);
    const auto ws = enrol(secret(), "ws-01");
    ctl({"collection", "create", "p", "--pilot", "--members", ws.id}, rita);
    ctl({"release", "create", "--title", "t", "--rfc", "RFC-0001", "--package", "hello@1.0"}, rita);
    const std::string ref = json_field(ctl({"release", "list", "--json"}, rita).out, "reference");
    ctl({"release", "transition", ref, "building"}, rita);
    ctl({"release", "transition", ref, "testing"}, rita);
    BOOST_TEST_REQUIRE(ctl({"advertise", "hello@1.0", "--collection", "p"}, rita).exit_code == 0);
    BOOST_TEST(ctl({"package", "retire", "hello@1.0"}, token).exit_code == 0);

    // Referenced by an active advertisement and an unfinished release: nothing to collect.
    const auto referenced = ctl({"package", "gc", "--dry-run"}, token);
    BOOST_TEST(contains(referenced.out, "would remove 0 object(s)"), referenced.out);
    const auto refused = ctl({"package", "gc"}, rita);
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(contains(refused.err, "role release-manager may not collect"), refused.err);

    ctl({"advertisement", "cancel", "ADV-0001", "--reason", "superseded"}, rita);
    ctl({"release", "transition", ref, "cancelled", "--reason", "superseded"}, rita);
    const auto dry = ctl({"package", "gc", "--dry-run"}, token);
    BOOST_TEST(contains(dry.out, "would remove 1 object(s)"), dry.out);
    BOOST_TEST(http(port, "GET", "/api/v1/objects/" + object, vera).status == 200);
    const auto collected = ctl({"package", "gc"}, token);
    BOOST_TEST(collected.exit_code == 0, collected.err);
    BOOST_TEST(contains(collected.out, "removed 1 object(s)"), collected.out);
    BOOST_TEST(http(port, "GET", "/api/v1/objects/" + object, vera).status == 404);
    BOOST_TEST(contains(ctl({"changelog"}, vera).out, "dsl.collect"));
    // The version stays in the library's history.
    BOOST_TEST(contains(ctl({"package", "show", "hello"}, vera).out, "1.0"));
    BOOST_TEST(contains(ctl({"package", "gc", "--dry-run"}, token).out, "would remove 0"));
}

BOOST_FIXTURE_TEST_CASE(DistributionPointTokensReadContentOnly, Library) {
    const auto added = ctl({"dp", "add", "branch-1", "--json"}, token);
    BOOST_TEST_REQUIRE(added.exit_code == 0, added.err);
    const std::string dp = token_in(added.out);
    BOOST_TEST(contains(dp, "dp_"));
    BOOST_TEST(ctl({"dp", "add", "branch-2"}, rita).exit_code == 1);
    const std::string object =
        json_field(http(port, "GET", "/api/v1/packages/hello", vera).body, "object_id");
    // Content: objects, the feed, and clients' signed policies.
    BOOST_TEST(http(port, "GET", "/api/v1/objects/" + object, dp).status == 200);
    const auto ws = enrol(secret(), "ws-01");
    policy_with(ws, "\"version\"");
    const auto feed = http(port, "GET", "/api/v1/feed?after=0", dp);
    BOOST_TEST(feed.status == 200);
    BOOST_TEST(contains(feed.body, ws.id), feed.body);
    // The policies of the clients it serves only.
    BOOST_TEST(http(port, "GET", "/api/v1/clients/" + ws.id + "/policy", dp).status == 404);
    BOOST_TEST_REQUIRE(
        ctl({"collection", "create", "branch", "--members", ws.id}, rita).exit_code == 0);
    BOOST_TEST_REQUIRE(
        ctl({"dp", "assign", "branch-1", "--collection", "branch"}, token).exit_code == 0);
    BOOST_TEST(http(port, "GET", "/api/v1/clients/" + ws.id + "/policy", dp).status == 200);
    // Nothing else: not the library's metadata, not clients, not users.
    BOOST_TEST(http(port, "GET", "/api/v1/releases", dp).status == 403);
    BOOST_TEST(http(port, "GET", "/api/v1/clients", dp).status == 403);
    BOOST_TEST(http(port, "GET", "/api/v1/users", dp).status == 403);
    BOOST_TEST(http(port, "POST", "/api/v1/collections", dp, R"({"name": "x", "query": "has a"})")
                   .status == 403);
    const auto listed = ctl({"dp", "list"}, vera);
    BOOST_TEST(contains(listed.out, "branch-1"), listed.out);
    BOOST_TEST(ctl({"dp", "revoke", "branch-1"}, token).exit_code == 0);
    BOOST_TEST(http(port, "GET", "/api/v1/feed", dp).status == 401);
}

BOOST_FIXTURE_TEST_CASE(InjectionThroughEveryStringFieldIsData, Library) {  // THREATS 29-30
    const std::vector<std::string> payloads = {R"(x'); DROP TABLE changelog; --)",
                                               R"(\" OR 1=1 --)",
                                               "Robert'); DELETE FROM user;--",
                                               "%27%20OR%201%3D1",
                                               "../../etc/passwd",
                                               "\u00e9t\u00e9 \u2603"};
    const std::vector<std::pair<std::string, std::string>> routes = {
        {"/api/v1/users", R"({"name": "$P", "role": "viewer"})"},
        {"/api/v1/users", R"({"name": "u", "role": "$P"})"},
        {"/api/v1/rfcs", R"({"title": "$P", "description": "$P", "business_need": "$P"})"},
        {"/api/v1/rfcs", R"({"title": "t", "risk": "$P"})"},
        {"/api/v1/releases", R"({"title": "$P", "rfcs": ["$P"], "packages": ["$P@1"]})"},
        {"/api/v1/collections", R"({"name": "$P", "description": "$P", "query": "has os.name"})"},
        {"/api/v1/collections", R"({"name": "c", "members": ["$P"]})"},
        {"/api/v1/collections", R"({"name": "c2", "include": ["$P"]})"},
        {"/api/v1/collections/preview", R"({"query": "os.name == \"$P\""})"},
        {"/api/v1/secrets", R"({"name": "$P"})"},
        {"/api/v1/dps", R"({"name": "$P"})"},
        {"/api/v1/advertisements", R"({"package": "hello@1.0", "collection": "$P"})"},
        {"/api/v1/advertisements", R"({"package": "$P@$P", "collection": "c", "windows": ["$P"]})"},
        {"/api/v1/publishers", R"({"name": "$P", "key": "$P", "packages": ["$P"]})"},
        {"/api/v1/clients/enroll", R"({"secret": "$P", "hostname": "$P"})"},
        {"/api/v1/rfcs/RFC-0001/reject", R"({"reason": "$P"})"},
    };
    auto json_escaped = [](const std::string& text) {
        std::string out;
        for (char c : text) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        return out;
    };
    for (const auto& payload : payloads) {
        for (const auto& [path, shape] : routes) {
            std::string body = shape;
            for (std::size_t at; (at = body.find("$P")) != std::string::npos;)
                body.replace(at, 2, json_escaped(payload));
            const std::string& as = contains(path, "/reject") ? carl : token;  // CAB votes
            const int status = http(port, "POST", path, as, body).status;
            BOOST_TEST(
                (status == 200 || status == 201 || status == 400 || status == 404 || status == 409),
                path << " with " << payload << ": " << status);
        }
    }
    // Stored as typed, shown back as typed; every table still there; still serving.
    const auto rfcs = http(port, "GET", "/api/v1/rfcs", vera).body;
    BOOST_TEST(contains(rfcs, "Robert'); DELETE FROM user;--"), rfcs);
    BOOST_TEST(http(port, "GET", "/healthz").status == 200);
    BOOST_TEST(ctl({"user", "list"}, token).exit_code == 0);
    sql::Database db(dir / "site/ferry.db");
    for (const char* table : {"user", "changelog", "client", "collection", "rfc", "release"}) {
        sql::Statement exists =
            db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
        exists.bind(1, table);
        BOOST_REQUIRE(exists.step());
        BOOST_TEST(exists.column_int64(0) == 1, table);
    }
}

namespace {

std::optional<std::int64_t> last_seen(const std::filesystem::path& db_path, const std::string& id) {
    sql::Database db(db_path.string());
    sql::Statement row = db.prepare("SELECT last_seen_at FROM client WHERE uid = ?");
    row.bind(1, id);
    BOOST_TEST_REQUIRE(row.step());
    if (row.column_is_null(0)) return std::nullopt;
    return row.column_int64(0);
}

}  // namespace

// An idle poll is answered on the front's loop (server/idle_poll_answers.cpp) only when the
// handler would give the same answer and write nothing; these requests compare the two.
BOOST_FIXTURE_TEST_CASE(IdlePollsAnsweredOnTheLoopAreTheHandlersAnswer, Library) {
    const std::string lab = secret();
    const auto ws = enrol(lab, "ws-01");
    const auto other = enrol(lab, "ws-02");
    const std::string etag = policy_with(ws, "\"version\"").headers.at("ETag");
    policy_with(other, "\"version\"");
    const std::filesystem::path db_path = dir / "site/ferry.db";
    const std::string path = "/api/v1/clients/" + ws.id + "/policy";
    const std::string poll = "GET " + path +
                             " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + ws.token +
                             "\r\nIf-None-Match: " + etag + "\r\n";

    // The handler's 304 (a query string keeps the loop out of it), then the loop's: the same
    // bytes but the date.
    const std::string handler =
        raw_head(port, "GET " + path + "?x=1" + poll.substr(poll.find(" HTTP/1.1")) + "\r\n");
    BOOST_TEST(handler.rfind("HTTP/1.1 304 Not Modified\r\n", 0) == 0, handler);
    const std::string loop = raw_head(port, poll + "\r\n");
    BOOST_TEST(without_date(loop) == without_date(handler));
    // The loop's 304 records the client's last contact too (within a second or so), and only
    // that client's. (Contacts are written a second late: wait for those of the polls above.)
    for (int i = 0; i < 100 && !(last_seen(db_path, ws.id) && last_seen(db_path, other.id)); ++i)
        std::this_thread::sleep_for(50ms);
    const auto other_seen = last_seen(db_path, other.id);
    BOOST_TEST_REQUIRE(other_seen.has_value());
    std::this_thread::sleep_for(1100ms);  // anything still noted is written by now
    sql::Database(db_path.string())
        .prepare("UPDATE client SET last_seen_at = NULL WHERE uid = ?")
        .bind(1, ws.id)
        .run();
    BOOST_TEST(raw_head(port, poll + "\r\n").rfind("HTTP/1.1 304 ", 0) == 0);
    for (int i = 0; i < 100 && !last_seen(db_path, ws.id); ++i) std::this_thread::sleep_for(50ms);
    BOOST_TEST(last_seen(db_path, ws.id).has_value());
    BOOST_TEST(last_seen(db_path, other.id).value_or(-1) == *other_seen);
    const std::string closing = raw_head(port, poll + "Connection: close\r\n\r\n");
    BOOST_TEST(contains(closing, "Connection: Close\r\n"), closing);
    const std::string head_poll = "HEAD" + poll.substr(3) + "\r\n";
    BOOST_TEST(raw_head(port, head_poll).rfind("HTTP/1.1 304 ", 0) == 0);

    // Anything else is the handler's: a changed ETag, another client's path, no token.
    BOOST_TEST(http(port, "GET", path, ws.token, "", {{"If-None-Match", "\"v0-0\""}}).status ==
               200);
    BOOST_TEST(http(port, "GET", "/api/v1/clients/" + other.id + "/policy", ws.token, "",
                    {{"If-None-Match", etag}})
                   .status == 403);
    BOOST_TEST(http(port, "GET", path, "", "", {{"If-None-Match", etag}}).status == 401);
    // A revoked client's token is refused at once, with the ETag it last had.
    BOOST_TEST_REQUIRE(ctl({"client", "revoke", ws.id}, token).exit_code == 0);
    const std::string revoked = raw_head(port, poll + "\r\n");
    BOOST_TEST(revoked.rfind("HTTP/1.1 401 ", 0) == 0, revoked);

    // Both kinds of 304 are counted on the policy route.
    const auto metrics = http(port, "GET", "/metrics").body;
    BOOST_TEST(contains(metrics,
                        "ferryd_http_requests_total{route=\"/api/v1/clients/{id}/policy\","
                        "status=\"304\"} 5"),
               metrics);
}
