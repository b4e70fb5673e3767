// The site's side of distribution points, driven over HTTP against a real ferryd with a DP's
// token (no DP process: tests/integration/test_distribution.cpp runs one). A DP's heartbeat
// and what `ferryctl dp show` makes of it; the relay of its clients' reports, each handled as
// the client's own and counted once; client entries on the feed with the digest of their
// tokens; assignment to a collection signing the DP's url into the members' policies; and
// who may call what.
#define BOOST_TEST_MODULE ferryd_dp_api
#include <boost/test/unit_test.hpp>
#include <ctime>
#include <thread>

#include "ferry/json.h"
#include "ferry/minisign.h"
#include "ferry/policy.h"
#include "ferry/sqlite.h"
#include "ferry/token.h"
#include "site_fixture.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

struct EnrolledClient {
    std::string id;
    std::string token;
};

Poco::JSON::Object::Ptr parsed(const HttpAnswer& answer) {
    return json::parse_object(answer.body, "answer", 10'000'000);
}

// A site with an admin, a viewer and a release manager, and one DP registered by the admin.
struct DpSite : RunningSite {
    std::string vera = user("vera", "viewer");
    std::string rita = user("rita", "release-manager");
    std::string dp = add_dp("edge");

    std::string user(const std::string& name, const std::string& role) {
        const auto added = ctl({"user", "add", name, "--role", role, "--json"}, token);
        BOOST_TEST_REQUIRE(added.exit_code == 0, added.err);
        return token_in(added.out);
    }

    std::string add_dp(const std::string& name) {
        const auto added = ctl({"dp", "add", name, "--json"}, token);
        BOOST_TEST_REQUIRE(added.exit_code == 0, added.err);
        return token_in(added.out);
    }

    int secrets = 0;
    std::string secret(bool approval = false) {
        std::vector<std::string> args = {"secret", "create", "--json", "--name",
                                         "s" + std::to_string(++secrets)};
        if (approval) args.push_back("--approve");
        const auto created = ctl(args, token);
        BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
        return json_field(created.out, "secret");
    }

    EnrolledClient enrol(const std::string& secret, const std::string& hostname) {
        const auto answer =
            http(port, "POST", "/api/v1/clients/enroll", "",
                 R"({"secret": ")" + secret + R"(", "hostname": ")" + hostname + R"("})");
        BOOST_TEST_REQUIRE(answer.status == 201, answer.body);
        return {json_field(answer.body, "client_id"), token_in(answer.body)};
    }

    HttpAnswer heartbeat(const std::string& as, const std::string& body) {
        return http(port, "POST", "/api/v1/dps/register", as, body);
    }

    HttpAnswer relay(const std::string& items) {
        return http(port, "POST", "/api/v1/dps/relay", dp, R"({"items": [)" + items + "]}");
    }

    // How many change log entries have this action.
    int logged(const std::string& action) {
        const auto answer = http(port, "GET", "/api/v1/changelog?limit=10000", token);
        BOOST_TEST_REQUIRE(answer.status == 200, answer.body);
        const auto entries = parsed(answer)->getArray("entries");
        int count = 0;
        for (std::size_t i = 0; i < entries->size(); ++i)
            count +=
                entries->getObject(static_cast<unsigned>(i))->getValue<std::string>("action") ==
                action;
        return count;
    }

    // The client's policy once the builder has issued one containing `needle` (or, with
    // `absent`, one without it), verified with the site key as the agent does.
    Policy policy_when(const EnrolledClient& client, const std::string& needle,
                       bool absent = false) {
        const auto site_key = minisign::PublicKey::load(dir / "site/keys/site.pub");
        HttpAnswer answer;
        for (int i = 0; i < 100; ++i) {
            answer = http(port, "GET", "/api/v1/clients/" + client.id + "/policy", client.token);
            if (answer.status == 200) {
                const auto envelope = parsed(answer);
                const SignedPolicy served{envelope->getValue<std::string>("policy"),
                                          envelope->getValue<std::string>("signature")};
                if (contains(served.json, needle) != absent)
                    return verify_policy(served, site_key, client.id, {},
                                         static_cast<std::int64_t>(::time(nullptr)));
            }
            std::this_thread::sleep_for(100ms);
        }
        BOOST_FAIL(std::string("no policy ") + (absent ? "without " : "with ") + needle + " for " +
                   client.id + ": " + answer.body);
        return {};
    }

    // hello 1.0, pushed by a trusted publisher, in a release that is testing, advertised on a
    // pilot collection holding `members`: ADV-0001.
    void advertise_hello_to(const std::vector<std::string>& members) {
        const std::string samples = std::string(FERRY_SOURCE_DIR) + "/samples/packages";
        auto pack = [&](std::vector<std::string> args) {
            args.insert(args.begin(), FERRY_PACK_BINARY);
            const auto r = run_process(args, "", dir.path());
            BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
        };
        pack({"keygen", "-o", "pub"});
        pack({"build", samples + "/hello-1.0", "-o", "hello.ferry", "--key", "pub.key"});
        BOOST_TEST_REQUIRE(
            ctl({"publisher", "add", "Samples", "--pub", dir / "pub.pub", "--packages", "hello"},
                token)
                .exit_code == 0);
        pack({"push", "hello.ferry", "--server", server(), "--token", token});
        const std::string carl = user("carl", "cab");
        BOOST_TEST_REQUIRE(ctl({"rfc", "create", "--title", "hello"}, rita).exit_code == 0);
        BOOST_TEST_REQUIRE(ctl({"rfc", "approve", "RFC-0001"}, carl).exit_code == 0);
        const auto created = ctl({"release", "create", "--title", "hello", "--rfc", "RFC-0001",
                                  "--package", "hello@1.0"},
                                 rita);
        BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
        const std::string ref = created.out.substr(created.out.find("REL-"), 13);
        BOOST_TEST_REQUIRE(ctl({"release", "transition", ref, "building"}, rita).exit_code == 0);
        BOOST_TEST_REQUIRE(ctl({"release", "transition", ref, "testing"}, rita).exit_code == 0);
        std::string list;
        for (const auto& member : members) list += (list.empty() ? "" : ",") + member;
        const auto pilot =
            ctl({"collection", "create", "pilot", "--pilot", "--members", list}, rita);
        BOOST_TEST_REQUIRE(pilot.exit_code == 0, pilot.err);
        const auto ad = ctl({"advertise", "hello@1.0", "--collection", "pilot"}, rita);
        BOOST_TEST_REQUIRE(ad.exit_code == 0, ad.err);
        BOOST_TEST_REQUIRE(contains(ad.out, "ADV-0001"), ad.out);
    }
};

std::string status_item(const std::string& client, int first_seq) {
    return R"({"client": ")" + client + R"(", "kind": "status", "body": {"messages": [)" +
           R"({"seq": )" + std::to_string(first_seq) +
           R"(, "advertisement": "ADV-0001", "state": "downloading", "at": 1}, )" + R"({"seq": )" +
           std::to_string(first_seq + 1) +
           R"(, "advertisement": "ADV-0001", "state": "installed", "exit_code": 0, "at": 2}]}})";
}

std::string inventory_item(const std::string& client) {
    return R"({"client": ")" + client +
           R"(", "kind": "inventory", "body": {"full": true, "seq": 1, "facts": {"os.name": "Debian", "hw.memory_mb": 8192}, "software": [{"name": "bash", "version": "5.2"}]}})";
}

// The results of a relay answer: each item's status and its answer or message, as text.
std::vector<Poco::JSON::Object::Ptr> results_of(const HttpAnswer& answer) {
    BOOST_TEST_REQUIRE(answer.status == 200, answer.body);
    const auto list = parsed(answer)->getArray("results");
    std::vector<Poco::JSON::Object::Ptr> out;
    for (std::size_t i = 0; i < list->size(); ++i)
        out.push_back(list->getObject(static_cast<unsigned>(i)));
    return out;
}

int status_of(const Poco::JSON::Object::Ptr& result) { return result->getValue<int>("status"); }

std::int64_t answer_number(const Poco::JSON::Object::Ptr& result, const std::string& field) {
    return result->getObject("answer")->getValue<std::int64_t>(field);
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(HeartbeatsAreVisibleInDpShowAndOnlyNewAddressesAreLogged, DpSite) {
    const auto never = ctl({"dp", "show", "edge"}, vera);
    BOOST_TEST_REQUIRE(never.exit_code == 0, never.err);
    BOOST_TEST(contains(never.out, "last contact  never"), never.out);

    const auto first = heartbeat(
        dp, R"({"url": "http://127.0.0.1:18080", "objects": 12, "bytes": 3456, "queue": 7, )"
            R"("lag": 30, "throughput": 65536})");
    BOOST_TEST_REQUIRE(first.status == 200, first.body);
    const auto answer = parsed(first);
    BOOST_TEST(answer->getValue<std::string>("name") == "edge");
    BOOST_TEST(answer->getValue<std::string>("url") == "http://127.0.0.1:18080");
    BOOST_TEST(answer->getValue<std::string>("schedule").empty());
    BOOST_TEST(answer->getValue<bool>("replica") == false);

    const auto shown = ctl({"dp", "show", "edge"}, vera);
    BOOST_TEST_REQUIRE(shown.exit_code == 0, shown.err);
    for (const char* line :
         {"url           http://127.0.0.1:18080", "serves        no collection",
          "schedule      unlimited", "objects       12 (3456 bytes)", "queue         7 report(s)",
          "lag           30 s", "throughput    65536 bytes/s"})
        BOOST_TEST(contains(shown.out, line), line << " in\n" << shown.out);
    BOOST_TEST(!contains(shown.out, "never"), shown.out);

    // A heartbeat later: new figures, same address, nothing logged.
    BOOST_TEST(
        heartbeat(dp, R"({"url": "http://127.0.0.1:18080", "objects": 13, "queue": 0})").status ==
        200);
    const auto list = ctl({"dp", "list"}, vera);
    BOOST_TEST_REQUIRE(list.exit_code == 0, list.err);
    BOOST_TEST(contains(list.out, "LAST CONTACT"), list.out);
    BOOST_TEST(contains(list.out, "B/S"), list.out);
    BOOST_TEST(contains(list.out, "SCHEDULE"), list.out);
    BOOST_TEST(contains(list.out, "edge"), list.out);
    BOOST_TEST(contains(list.out, "http://127.0.0.1:18080"), list.out);
    const auto json = http(port, "GET", "/api/v1/dps/edge", vera);
    const auto report = parsed(json)->getObject("report");
    BOOST_REQUIRE(report);
    BOOST_TEST(report->getValue<int>("objects") == 13);
    BOOST_TEST(!report->has("bytes"));  // the last heartbeat's figures, as sent
    BOOST_TEST(parsed(json)->has("last_seen_at"));
    BOOST_TEST(logged("dp.url") == 1);
    BOOST_TEST(heartbeat(dp, R"({"url": "http://127.0.0.1:18081"})").status == 200);
    BOOST_TEST(logged("dp.url") == 2);

    // What the admin sets comes back in the next heartbeat answer.
    const auto scheduled =
        ctl({"dp", "schedule", "edge", "Mon-Fri 08:00-18:00 2MiB/s; default unlimited"}, token);
    BOOST_TEST(scheduled.exit_code == 0, scheduled.err);
    BOOST_TEST(ctl({"dp", "replica", "edge", "--on"}, token).exit_code == 0);
    const auto told = parsed(heartbeat(dp, R"({"url": "http://127.0.0.1:18081"})"));
    BOOST_TEST(told->getValue<std::string>("schedule") ==
               "Mon-Fri 08:00-18:00 2MiB/s; default unlimited");
    BOOST_TEST(told->getValue<bool>("replica"));
    const auto again = ctl({"dp", "show", "edge"}, vera);
    BOOST_TEST(contains(again.out, "schedule      Mon-Fri 08:00-18:00 2MiB/s"), again.out);
    BOOST_TEST(contains(again.out, "replica       true"), again.out);
    const auto refused = ctl({"dp", "schedule", "edge", "Mon-Fri 08:00-18:00 fast"}, token);
    BOOST_TEST(refused.exit_code == 2);  // input refused by the server
    BOOST_TEST(contains(refused.err, "field \"schedule\""), refused.err);

    // The rate the schedule allows now, beside the throughput the DP reports (the console).
    BOOST_TEST(ctl({"dp", "schedule", "edge", "default 1MiB/s"}, token).exit_code == 0);
    const auto rated = http(port, "GET", "/api/v1/dps/edge", vera);
    BOOST_TEST_REQUIRE(rated.status == 200, rated.body);
    BOOST_TEST(parsed(rated)->getValue<std::string>("schedule_now") == "1.0 MiB/s", rated.body);
    BOOST_TEST(parsed(rated)->getValue<Poco::Int64>("schedule_rate") == 1048576, rated.body);
    BOOST_TEST(ctl({"dp", "schedule", "edge", ""}, token).exit_code == 0);
    const auto unlimited = parsed(http(port, "GET", "/api/v1/dps/edge", vera));
    BOOST_TEST(unlimited->getValue<std::string>("schedule_now") == "unlimited");
    BOOST_TEST(!unlimited->has("schedule_rate"));

    // Bad heartbeats are refused naming the field.
    const auto bad_url = heartbeat(dp, R"({"url": "ftp://127.0.0.1"})");
    BOOST_TEST(bad_url.status == 400);
    BOOST_TEST(contains(bad_url.body, "field \\\"url\\\""), bad_url.body);
    BOOST_TEST(heartbeat(dp, R"({"objects": 1})").status == 400);
    BOOST_TEST(heartbeat(dp, R"({"url": "http://a", "objects": -1})").status == 400);
    const auto unknown = heartbeat(dp, R"({"url": "http://a", "colour": "blue"})");
    BOOST_TEST(unknown.status == 400);
    BOOST_TEST(contains(unknown.body, "colour"), unknown.body);
    BOOST_TEST(heartbeat(dp, R"({"url": "http://)" + std::string(250, 'a') + R"("})").status ==
               400);

    // The objects it holds: listed, shown by the site (the console's "where it is replicated");
    // anything but object ids, or more than the site takes, is refused naming the field.
    const std::string a(64, 'a'), b(64, 'b');
    const auto held =
        heartbeat(dp, R"({"url": "http://127.0.0.1:18081", "objects": 2, "held": [")" + a +
                          R"(", ")" + b + R"("]})");
    BOOST_TEST_REQUIRE(held.status == 200, held.body);
    const auto shown_held = http(port, "GET", "/api/v1/dps/edge", vera);
    const auto held_ids = parsed(shown_held)->getObject("report")->getArray("held");
    BOOST_TEST_REQUIRE(held_ids->size() == 2u, shown_held.body);
    BOOST_TEST(held_ids->getElement<std::string>(0) == a);
    BOOST_TEST(held_ids->getElement<std::string>(1) == b);
    const auto traversal =
        heartbeat(dp, R"({"url": "http://a", "held": [")" + a + R"(", "../../ferry.db"]})");
    BOOST_TEST(traversal.status == 400);
    BOOST_TEST(contains(traversal.body, "field \\\"held\\\"[1]"), traversal.body);
    std::string many = R"({"url": "http://a", "held": [)";
    for (int i = 0; i < 801; ++i) many += std::string(i ? ", " : "") + "\"" + a + "\"";
    const auto too_many = heartbeat(dp, many + "]}");
    BOOST_TEST(too_many.status == 400, too_many.body);
}

BOOST_FIXTURE_TEST_CASE(RelayedReportsAreTheClientsOwnAndCountOnce, DpSite) {
    const std::string open = secret();
    const auto ws1 = enrol(open, "ws-01");
    const auto ws2 = enrol(open, "ws-02");
    const auto gone = enrol(open, "ws-03");
    const auto waiting = enrol(secret(true), "ws-04");
    advertise_hello_to({ws1.id, ws2.id, gone.id});
    BOOST_TEST_REQUIRE(ctl({"client", "revoke", gone.id}, token).exit_code == 0);

    const std::string items =
        status_item(ws1.id, 1) + ", " + inventory_item(ws1.id) + ", " +
        status_item("cl_00000000000000ff", 1) + ", " + status_item(gone.id, 1) + ", " +
        inventory_item(waiting.id) + ", " + R"({"client": ")" + ws2.id +
        R"(", "kind": "telemetry", "body": {}}, )" + R"({"client": ")" + ws2.id +
        R"(", "kind": "status", "body": {"messages": [{"seq": 1, "advertisement": "ADV-0001", "state": "exploded", "at": 1}]}}, )" +
        status_item(ws2.id, 1);
    const auto first = results_of(relay(items));
    BOOST_TEST_REQUIRE(first.size() == 8u);
    BOOST_TEST(status_of(first[0]) == 200);
    BOOST_TEST(answer_number(first[0], "new") == 2);
    BOOST_TEST(status_of(first[1]) == 200);
    BOOST_TEST(first[1]->getObject("answer")->getValue<bool>("changed"));
    BOOST_TEST(status_of(first[2]) == 404);
    BOOST_TEST(first[2]->getValue<std::string>("message") == "no client cl_00000000000000ff");
    BOOST_TEST(status_of(first[3]) == 403);
    BOOST_TEST(contains(first[3]->getValue<std::string>("message"), "is revoked"));
    BOOST_TEST(status_of(first[4]) == 403);
    BOOST_TEST(contains(first[4]->getValue<std::string>("message"), "is pending"));
    BOOST_TEST(status_of(first[5]) == 400);
    BOOST_TEST(contains(first[5]->getValue<std::string>("message"), "items[5].kind"));
    BOOST_TEST(status_of(first[6]) == 400);  // the client's own validation
    BOOST_TEST(contains(first[6]->getValue<std::string>("message"), "state"));
    BOOST_TEST(status_of(first[7]) == 200);  // the refusals before did not fail the batch
    BOOST_TEST(answer_number(first[7], "new") == 2);

    // The inventory landed as the client's own.
    const auto shown = ctl({"client", "show", ws1.id}, vera);
    BOOST_TEST(contains(shown.out, "os.name = Debian"), shown.out);
    BOOST_TEST(contains(shown.out, "bash 5.2"), shown.out);

    // The same relay again (the DP resending after a lost answer): duplicates, nothing
    // counted twice.
    const auto second = results_of(relay(items));
    BOOST_TEST_REQUIRE(second.size() == 8u);
    BOOST_TEST(answer_number(second[0], "new") == 0);
    BOOST_TEST(answer_number(second[0], "duplicates") == 2);
    BOOST_TEST(second[1]->getObject("answer")->getValue<bool>("changed") == false);
    BOOST_TEST(answer_number(second[7], "duplicates") == 2);
    // And sent by the client itself: the same messages, by their seq, are duplicates too.
    const auto direct = http(port, "POST", "/api/v1/status", ws1.token,
                             R"({"messages": [{"seq": 2, "advertisement": "ADV-0001", )"
                             R"("state": "installed", "exit_code": 0, "at": 2}]})");
    BOOST_TEST(direct.status == 200, direct.body);
    BOOST_TEST(contains(direct.body, "\"duplicates\": 1"), direct.body);

    // A client that only polled the DP: relayed as "seen", the site counts it as seen.
    {
        sql::Database site_db(dir / "site/ferry.db");
        site_db.prepare("UPDATE client SET last_seen_at = NULL WHERE uid = ?")
            .bind(1, ws2.id)
            .run();
    }
    const auto unseen = parsed(http(port, "GET", "/api/v1/clients/" + ws2.id, vera));
    BOOST_TEST(!unseen->has("last_seen_at"));
    const auto seen =
        results_of(relay(R"({"client": ")" + ws2.id +
                         R"(", "kind": "seen", "body": {}}, )"
                         R"({"client": "cl_00000000000000ff", "kind": "seen", "body": {}})"));
    BOOST_TEST_REQUIRE(seen.size() == 2u);
    BOOST_TEST(status_of(seen[0]) == 200);
    BOOST_TEST(status_of(seen[1]) == 404);
    const auto shown_seen = parsed(http(port, "GET", "/api/v1/clients/" + ws2.id, vera));
    BOOST_TEST(shown_seen->has("last_seen_at"));

    const auto report = ctl({"advertisement", "status", "ADV-0001", "--json"}, vera);
    BOOST_TEST_REQUIRE(report.exit_code == 0, report.err);
    const auto counts = json::parse_object(report.out, "status")->getObject("counts");
    BOOST_TEST(counts->getValue<int>("installed") == 2);
    BOOST_TEST(!counts->has("downloading"));

    // The relay as a whole: too many items, not a list, not JSON.
    std::string many;
    for (int i = 0; i < 1001; ++i) many += (i ? ", " : "") + status_item(ws1.id, 100 + 2 * i);
    const auto too_many = relay(many);
    BOOST_TEST(too_many.status == 413, too_many.body);
    BOOST_TEST(contains(too_many.body, "at most 1000"), too_many.body);
    BOOST_TEST(http(port, "POST", "/api/v1/dps/relay", dp, R"({"items": {}})").status == 400);
    BOOST_TEST(http(port, "POST", "/api/v1/dps/relay", dp, R"({"item": []})").status == 400);
    BOOST_TEST(http(port, "POST", "/api/v1/dps/relay", dp, "not json").status == 400);
    BOOST_TEST(results_of(relay("")).empty());
    const auto odd = results_of(relay(R"(7, {"client": ")" + ws1.id + R"(", "kind": "status"})"));
    BOOST_TEST_REQUIRE(odd.size() == 2u);
    BOOST_TEST(status_of(odd[0]) == 400);
    BOOST_TEST(status_of(odd[1]) == 400);
    BOOST_TEST(contains(odd[1]->getValue<std::string>("message"), "body"));
    BOOST_TEST(http(port, "GET", "/api/v1/dps/relay", dp).status == 404);
}

BOOST_FIXTURE_TEST_CASE(TheFeedCarriesClientsWithTheDigestOfTheirTokens, DpSite) {
    const auto ws1 = enrol(secret(), "ws-01");
    const auto ws2 = enrol(secret(true), "ws-02");
    BOOST_TEST_REQUIRE(ctl({"client", "approve", ws2.id}, token).exit_code == 0);
    BOOST_TEST_REQUIRE(ctl({"client", "revoke", ws1.id}, token).exit_code == 0);

    // What a DP sees: every change of every client, with the digest it checks tokens against —
    // the one function the site uses to store them.
    auto client_entries = [&](const std::string& as) {
        const auto feed = http(port, "GET", "/api/v1/feed?after=0&limit=10000", as);
        BOOST_TEST_REQUIRE(feed.status == 200, feed.body);
        const auto entries = parsed(feed)->getArray("entries");
        std::vector<Poco::JSON::Object::Ptr> out;
        for (std::size_t i = 0; i < entries->size(); ++i) {
            const auto e = entries->getObject(static_cast<unsigned>(i));
            if (e->getValue<std::string>("kind") == "client") out.push_back(e);
        }
        return out;
    };
    const auto seen = client_entries(dp);
    BOOST_TEST_REQUIRE(seen.size() == 4u);
    const std::vector<std::pair<EnrolledClient, std::string>> expected = {
        {ws1, "active"}, {ws2, "pending"}, {ws2, "active"}, {ws1, "revoked"}};
    std::int64_t last_seq = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        BOOST_TEST(seen[i]->getValue<std::string>("subject") == expected[i].first.id);
        BOOST_TEST(seen[i]->getValue<std::string>("state") == expected[i].second);
        BOOST_TEST(seen[i]->getValue<std::string>("token_digest") ==
                   token_digest(expected[i].first.token));
        BOOST_TEST(seen[i]->getValue<std::int64_t>("seq") > last_seq);
        BOOST_TEST(seen[i]->has("at"));
        last_seq = seen[i]->getValue<std::int64_t>("seq");
    }
    // A viewer sees the states, not the digests; a client does not read the feed.
    const auto viewed = client_entries(vera);
    BOOST_TEST_REQUIRE(viewed.size() == 4u);
    BOOST_TEST(!viewed[0]->has("token_digest"));
    BOOST_TEST(http(port, "GET", "/api/v1/feed", ws2.token).status == 403);

    // Objects: every registered package as a library object, an advertised one as such.
    advertise_hello_to({ws2.id});
    const auto feed = parsed(http(port, "GET", "/api/v1/feed?after=0&limit=10000", dp));
    const auto entries = feed->getArray("entries");
    int library = 0, advertised = 0;
    for (std::size_t i = 0; i < entries->size(); ++i) {
        const auto e = entries->getObject(static_cast<unsigned>(i));
        if (e->getValue<std::string>("kind") != "object") continue;
        if (e->getValue<bool>("advertised")) {
            ++advertised;
        } else {
            ++library;
            BOOST_TEST(e->getValue<std::int64_t>("size") > 0);
            BOOST_TEST(contains(e->getValue<std::string>("detail"), "library "));
        }
    }
    BOOST_TEST(library == 1);
    BOOST_TEST(advertised == 1);
}

BOOST_FIXTURE_TEST_CASE(AssigningADpSignsItsUrlIntoTheMembersPolicies, DpSite) {
    const std::string open = secret();
    const auto member = enrol(open, "ws-01");
    const auto other = enrol(open, "ws-02");
    BOOST_TEST_REQUIRE(
        ctl({"collection", "create", "branch", "--members", member.id}, rita).exit_code == 0);
    BOOST_TEST(policy_when(member, "sources", true).sources.empty());
    BOOST_TEST_REQUIRE(heartbeat(dp, R"({"url": "http://127.0.0.1:18080"})").status == 200);

    const auto assigned = ctl({"dp", "assign", "edge", "--collection", "branch"}, token);
    BOOST_TEST_REQUIRE(assigned.exit_code == 0, assigned.err);
    BOOST_TEST(contains(assigned.out, "serves branch"), assigned.out);
    const Policy signed_policy = policy_when(member, "http://127.0.0.1:18080");
    BOOST_TEST(signed_policy.sources == std::vector<std::string>{"http://127.0.0.1:18080"});
    BOOST_TEST(contains(ctl({"dp", "show", "edge"}, vera).out, "serves        collection branch"));

    // A second DP, and the first moving: both named, in name order, at their current urls.
    const std::string second = add_dp("alpha");
    BOOST_TEST_REQUIRE(heartbeat(second, R"({"url": "https://127.0.0.2:8443"})").status == 200);
    BOOST_TEST(ctl({"dp", "assign", "alpha", "--collection", "branch"}, token).exit_code == 0);
    BOOST_TEST_REQUIRE(heartbeat(dp, R"({"url": "http://127.0.0.1:18081"})").status == 200);
    BOOST_TEST(policy_when(member, "http://127.0.0.1:18081").sources ==
               (std::vector<std::string>{"https://127.0.0.2:8443", "http://127.0.0.1:18081"}));
    // Not a member: no sources, and the DP may not read its policy (it would hold a copy).
    BOOST_TEST(policy_when(other, "sources", true).sources.empty());
    BOOST_TEST(http(port, "GET", "/api/v1/clients/" + member.id + "/policy", dp).status == 200);
    const auto refused = http(port, "GET", "/api/v1/clients/" + other.id + "/policy", dp);
    BOOST_TEST(refused.status == 404, refused.body);
    BOOST_TEST(contains(refused.body, "is not served by distribution point edge"), refused.body);
    BOOST_TEST(http(port, "GET", "/api/v1/clients/" + other.id + "/policy", vera).status == 200);

    // Cleared (the API takes null): the member's policy no longer names it.
    BOOST_TEST(
        http(port, "POST", "/api/v1/dps/alpha/assign", token, R"({"collection": null})").status ==
        200);
    BOOST_TEST(ctl({"dp", "assign", "edge", "--none"}, token).exit_code == 0);
    BOOST_TEST(policy_when(member, "sources", true).sources.empty());
    BOOST_TEST(http(port, "GET", "/api/v1/clients/" + member.id + "/policy", dp).status == 404);
    // The feed tells edge to ask again for the member it served (the "dp edge" entry); the
    // entries of the member's policy from while edge served it are no longer edge's business.
    const auto feed = json::parse_object(http(port, "GET", "/api/v1/feed", dp).body, "feed");
    int told = 0;
    const auto entries = feed->getArray("entries");
    for (std::size_t i = 0; i < entries->size(); ++i) {
        const auto e = entries->getObject(static_cast<unsigned>(i));
        if (e->getValue<std::string>("kind") == "policy" &&
            e->getValue<std::string>("subject") == member.id)
            ++told;
    }
    BOOST_TEST(told == 1);
    BOOST_TEST(logged("dp.assign") == 4);
    const auto unknown = ctl({"dp", "assign", "edge", "--collection", "nope"}, token);
    BOOST_TEST(unknown.exit_code == 2);
    BOOST_TEST(contains(unknown.err, "no collection nope"), unknown.err);
}

BOOST_FIXTURE_TEST_CASE(EveryDpRouteChecksWhoCalls, DpSite) {
    const auto client = enrol(secret(), "ws-01");
    const std::string beat = R"({"url": "http://127.0.0.1:18080"})";
    // The DP's own routes: the dp token only.
    BOOST_TEST(heartbeat("", beat).status == 401);
    BOOST_TEST(heartbeat("dp_" + std::string(43, 'A'), beat).status == 401);
    for (const std::string& person : {token, vera, rita}) {
        const auto refused = heartbeat(person, beat);
        BOOST_TEST(refused.status == 403, refused.body);
        BOOST_TEST(contains(refused.body, "only a distribution point reports itself"),
                   refused.body);
        BOOST_TEST(heartbeat(person, "{}").status == 403);  // refused before the body is read
        BOOST_TEST(http(port, "POST", "/api/v1/dps/relay", person, R"({"items": []})").status ==
                   403);
    }
    BOOST_TEST(heartbeat(client.token, beat).status == 403);
    BOOST_TEST(http(port, "POST", "/api/v1/dps/relay", client.token, R"({"items": []})").status ==
               403);
    BOOST_TEST(http(port, "POST", "/api/v1/dps/relay", "", R"({"items": []})").status == 401);

    // Configuring a DP: admin only; the DP itself is refused too.
    BOOST_TEST_REQUIRE(
        ctl({"collection", "create", "branch", "--members", client.id}, rita).exit_code == 0);
    const std::vector<std::pair<std::string, std::string>> admin_routes = {
        {"assign", R"({"collection": "branch"})"},
        {"schedule", R"({"schedule": "default 1MiB/s"})"},
        {"replica", R"({"replica": true})"}};
    for (const auto& [action, body] : admin_routes) {
        const std::string path = "/api/v1/dps/edge/" + action;
        BOOST_TEST(http(port, "POST", path, "", body).status == 401, path);
        for (const std::string& other : {vera, rita, dp, client.token})
            BOOST_TEST(http(port, "POST", path, other, body).status == 403, path);
        BOOST_TEST(http(port, "POST", path, token, body).status == 200, path);
        BOOST_TEST(http(port, "POST", "/api/v1/dps/ghost/" + action, token, body).status == 404);
    }
    BOOST_TEST(http(port, "POST", "/api/v1/dps/edge/replica", token, "{}").status == 400);
    BOOST_TEST(http(port, "POST", "/api/v1/dps/edge/schedule", token,
                    R"({"schedule": ")" + std::string(1025, 'a') + R"("})")
                   .status == 400);
    BOOST_TEST(logged("dp.schedule") == 1);
    BOOST_TEST(logged("dp.replica") == 1);
    // Reading DPs: people; not the DP, not a client.
    BOOST_TEST(http(port, "GET", "/api/v1/dps", vera).status == 200);
    BOOST_TEST(http(port, "GET", "/api/v1/dps", dp).status == 403);
    BOOST_TEST(http(port, "GET", "/api/v1/dps/edge", client.token).status == 403);

    // A revoked DP is a stranger.
    BOOST_TEST(heartbeat(dp, beat).status == 200);
    BOOST_TEST(ctl({"dp", "revoke", "edge"}, token).exit_code == 0);
    BOOST_TEST(heartbeat(dp, beat).status == 401);
    BOOST_TEST(http(port, "POST", "/api/v1/dps/relay", dp, R"({"items": []})").status == 401);
}
