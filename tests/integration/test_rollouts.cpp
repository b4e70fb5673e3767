// Rollouts with real agents (issue 6): a site, a distribution point serving the fleet, and four
// agents. hello goes out in waves — the pilot while the release is testing, the production
// waves only after the readiness review — and completes; broken fails its health check on the
// pilot, and its rollout halts by itself, the halt reaching the agents' policies through the DP;
// a client that joins later is placed in a wave and served.
#define BOOST_TEST_MODULE rollouts
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <memory>
#include <thread>

#include "ferry/sqlite.h"
#include "site_fixture.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

Poco::JSON::Object::Ptr parsed(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

struct Fleet : RunningSite {
    std::string rita, carl, ref, secret, dp_url;
    std::unique_ptr<BackgroundProcess> dp;
    std::vector<std::string> ids;  // client ids, ws-0 first

    Fleet() {
        const std::string samples = std::string(FERRY_SOURCE_DIR) + "/samples/packages";
        run({FERRY_PACK_BINARY, "keygen", "-o", dir / "pub"});
        BOOST_TEST_REQUIRE(
            ctl({"publisher", "add", "Samples", "--pub", dir / "pub.pub", "--packages", "*"}, token)
                .exit_code == 0);
        for (const std::string name : {"hello-1.0", "hello-1.1", "broken-1.0"}) {
            run({FERRY_PACK_BINARY, "build", samples + "/" + name, "-o", dir / (name + ".ferry"),
                 "--key", dir / "pub.key"});
            run({FERRY_PACK_BINARY, "push", dir / (name + ".ferry"), "--server", server(),
                 "--token", token});
        }
        rita = user("rita", "release-manager");
        carl = user("carl", "cab");
        run_ctl({"rfc", "create", "--title", "waves"}, rita);
        run_ctl({"rfc", "approve", "RFC-0001"}, carl);
        const auto release = run_ctl({"release", "create", "--title", "waves", "--rfc", "RFC-0001",
                                      "--package", "hello@1.0,broken@1.0"},
                                     rita);
        ref = release.out.substr(release.out.find("REL-"), 13);
        run_ctl({"release", "transition", ref, "building"}, rita);
        run_ctl({"release", "transition", ref, "testing"}, rita);

        // The distribution point, serving the whole fleet.
        const auto added = run_ctl({"dp", "add", "edge", "--json"}, token);
        run({FERRYD_BINARY, "init", "--role", "dp", "--dir", dir / "dp", "--parent", server(),
             "--token", token_in(added.out), "--listen", "127.0.0.1:0", "--sync-interval", "1"});
        BOOST_TEST(contains(read_file(dir / "dp/ferryd.ini"), "sync_interval = 1"));
        dp = std::make_unique<BackgroundProcess>(
            std::vector<std::string>{FERRYD_BINARY, "--config", dir / "dp/ferryd.ini"});
        const std::string line = dp->wait_for_line("listening on", 10s);
        dp_url = line.substr(line.find("http://"), line.find(" (parent") - line.find("http://"));

        secret = json_field(run_ctl({"secret", "create", "--json"}, token).out, "secret");
        for (int i = 0; i < 4; ++i) enrol(i);
        run_ctl({"collection", "create", "pilots", "--pilot", "--members", ids[0]}, rita);
        run_ctl({"collection", "create", "fleet", "--members", members()}, rita);
        run_ctl({"dp", "assign", "edge", "--collection", "fleet"}, token);
    }

    static std::string joined(const std::vector<std::string>& words) {
        std::string out;
        for (const auto& word : words) out += (out.empty() ? "" : " ") + word;
        return out;
    }
    ProcessResult run(const std::vector<std::string>& argv) {
        const auto r = run_process(argv);
        BOOST_TEST_REQUIRE(r.exit_code == 0, joined(argv) + ": " + r.err);
        return r;
    }
    ProcessResult run_ctl(const std::vector<std::string>& args, const std::string& as) {
        const auto r = ctl(args, as);
        BOOST_TEST_REQUIRE(r.exit_code == 0, "ferryctl " + joined(args) + ": " + r.err);
        return r;
    }
    std::string user(const std::string& name, const std::string& role) {
        return token_in(run_ctl({"user", "add", name, "--role", role, "--json"}, token).out);
    }
    std::string members() const {
        std::string list;
        for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
        return list;
    }
    ProcessResult agent(int i, std::vector<std::string> args) const {
        const std::string home = dir / ("agent-" + std::to_string(i));
        args.insert(args.begin(), FERRY_AGENT_BINARY);
        args.insert(args.end(), {"--state-dir", home + "/state", "--root", home + "/root"});
        return run_process(args);
    }
    void enrol(int i) {
        const auto enrolled = agent(i, {"enroll", "--server", server(), "--secret", secret,
                                        "--hostname", "ws-" + std::to_string(i)});
        BOOST_TEST_REQUIRE(enrolled.exit_code == 0, enrolled.err);
        ids.push_back(enrolled.out.substr(12, enrolled.out.find(' ', 12) - 12));
    }
    std::string current(int i, const std::string& package) const {
        std::error_code ec;
        return std::filesystem::read_symlink(
                   dir / ("agent-" + std::to_string(i) + "/root/" + package + "/current"), ec)
            .string();
    }
    Poco::JSON::Object::Ptr rollout(const std::string& id) {
        return parsed(run_ctl({"rollout", "show", id, "--json"}, rita).out);
    }
    // Cycles every agent until `done` holds for the rollout; fails naming what it saw.
    Poco::JSON::Object::Ptr cycle_until(
        const std::string& id, const std::function<bool(const Poco::JSON::Object::Ptr&)>& done) {
        Poco::JSON::Object::Ptr r;
        for (int round = 0; round < 150; ++round) {
            r = rollout(id);
            if (done(r)) return r;
            for (int i = 0; i < static_cast<int>(ids.size()); ++i) agent(i, {"run", "--once"});
            std::this_thread::sleep_for(100ms);
        }
        BOOST_FAIL("rollout " + id + " never got there:\n" +
                   run_ctl({"rollout", "show", id}, rita).out);
        return r;
    }
    std::string create(const std::vector<std::string>& options) {
        std::vector<std::string> args = {"rollout", "create"};
        args.insert(args.end(), options.begin(), options.end());
        args.push_back("--json");
        return parsed(run_ctl(args, rita).out)->getValue<std::string>("id");
    }
    void pass_readiness_review(const std::string& release) {
        for (int item : {1, 2, 3, 4, 5, 8})
            run_ctl({"release", "review", release, std::to_string(item), "--go"}, rita);
        for (int item : {6, 11})
            run_ctl({"release", "review", release, std::to_string(item), "--go"}, carl);
        for (int item : {7, 9, 10})
            run_ctl({"release", "review", release, std::to_string(item), "--go"}, token);
        run_ctl({"release", "transition", release, "ready"}, rita);
    }
    std::string release_state(const std::string& release = "") {
        return parsed(run_ctl({"release", "show", release.empty() ? ref : release, "--json"}, rita)
                          .out)
            ->getValue<std::string>("state");
    }
    std::string dp_policy(const std::string& client) const {
        sql::Database db(dir / "dp/dp.db");
        auto row = db.prepare("SELECT envelope FROM policy WHERE client_id = ?");
        row.bind(1, client);
        return row.step() ? row.column_text(0) : "";
    }
};

std::string wave_state(const Poco::JSON::Object::Ptr& r, int number) {
    return r->getArray("waves")
        ->getObject(static_cast<unsigned>(number - 1))
        ->getValue<std::string>("state");
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(WavesAdvanceOnEvidenceAndFailuresHaltThroughTheDp, Fleet) {
    const std::string hello = create({"hello@1.0", "--collection", "fleet", "--waves", "pilots,50%",
                                      "--mandatory", "--success", "100"});
    const std::string broken = create({"broken@1.0", "--collection", "fleet", "--waves", "pilots",
                                       "--mandatory", "--error", "0"});

    // Every rollout route checks the caller's role and names what is wrong with the input.
    const std::string vera = user("vera", "viewer");
    BOOST_TEST(ctl({"rollout", "show", hello}, vera).exit_code == 0);
    for (const std::string verb : {"halt", "resume", "cancel", "advance"}) {
        const auto refused = ctl({"rollout", verb, hello}, vera);
        BOOST_TEST(refused.exit_code == 1, verb);
        BOOST_TEST(contains(refused.err, "viewer"), refused.err);
    }
    BOOST_TEST(ctl({"rollout", "show", hello}, "admin_" + std::string(43, 'A')).exit_code == 1);
    const auto viewer_backout =
        ctl({"release", "backout", ref, "--reason", "a viewer may not do this"}, vera);
    BOOST_TEST(viewer_backout.exit_code == 1, viewer_backout.err);
    const auto bad_wave = ctl(
        {"rollout", "create", "hello@1.0", "--collection", "fleet", "--waves", "50%,10%"}, rita);
    BOOST_TEST(bad_wave.exit_code == 2);
    BOOST_TEST(contains(bad_wave.err, "field \"waves\"[1]: percentages are cumulative"),
               bad_wave.err);
    const auto no_collection = ctl(
        {"rollout", "create", "hello@1.0", "--collection", "fleet", "--waves", "nowhere"}, rita);
    BOOST_TEST(no_collection.exit_code == 2);
    BOOST_TEST(contains(no_collection.err, "no collection nowhere"), no_collection.err);
    BOOST_TEST(
        ctl({"rollout", "create", "hello@1.0", "--collection", "fleet", "--error", "x"}, rita)
            .exit_code == 2);
    BOOST_TEST(ctl({"rollout", "show", "RO-x"}, rita).exit_code == 2);
    const auto bad_interval =
        run_process({FERRYD_BINARY, "init", "--role", "dp", "--dir", dir / "dp-bad", "--parent",
                     server(), "--token", "dp_x", "--sync-interval", "0"});
    BOOST_TEST(bad_interval.exit_code == 2);
    BOOST_TEST(contains(bad_interval.err, "--sync-interval must be 1 to 3600 seconds"),
               bad_interval.err);
    BOOST_TEST(!std::filesystem::exists(dir / "dp-bad"));  // nothing written

    // The pilot wave while the release is testing: only ws-0 installs; the production waves wait.
    auto r = cycle_until(
        hello, [](const Poco::JSON::Object::Ptr& r) { return wave_state(r, 1) == "complete"; });
    BOOST_TEST(current(0, "hello") == "1.0");
    for (int i = 1; i < 4; ++i) BOOST_TEST(current(i, "hello").empty());
    BOOST_TEST(wave_state(r, 2) == "pending");
    BOOST_TEST(contains(r->getValue<std::string>("reason"), "production wave needs it ready"));

    // broken fails its health check on the pilot: its rollout halts by itself, and the halt
    // reaches the pilot's policy at the DP and at the agent.
    r = cycle_until(broken, [](const Poco::JSON::Object::Ptr& r) {
        return r->getValue<std::string>("state") == "halted";
    });
    BOOST_TEST(contains(r->getValue<std::string>("reason"), "wave 1: 1 of 1 clients failed"),
               r->getValue<std::string>("reason"));
    const auto changelog = run_ctl({"changelog"}, rita).out;
    BOOST_TEST(contains(changelog, "halted: wave 1: 1 of 1 clients failed"), changelog);
    for (int round = 0; round < 100 && !contains(dp_policy(ids[0]), "halted"); ++round)
        std::this_thread::sleep_for(100ms);
    BOOST_TEST(contains(dp_policy(ids[0]), "halted"));
    auto agent_policy = [&] {
        sql::Database db(dir / "agent-0/state/agent.db");
        auto row = db.prepare("SELECT json FROM policy");
        return row.step() ? row.column_text(0) : std::string();
    };
    for (int round = 0; round < 50 && !contains(agent_policy(), "halted"); ++round)
        agent(0, {"run", "--once"});
    BOOST_TEST(contains(agent_policy(), "\"rollout_state\": \"halted\""), agent_policy());
    BOOST_TEST(current(1, "broken").empty());  // never reached production
    // The report groups the failure by its exit code, with the log's last line and the host.
    const auto report = run_ctl({"rollout", "report", broken}, rita).out;
    BOOST_TEST(contains(report, "rolled-back  1"), report);
    BOOST_TEST(contains(report, "ws-0"), report);
    BOOST_TEST(contains(report, "edge"), report);
    BOOST_TEST(contains(report, "progress over time"), report);
    const auto json = parsed(run_ctl({"rollout", "report", broken, "--json"}, rita).out);
    const auto failure = json->getArray("failures")->getObject(0);
    BOOST_TEST(failure->getValue<std::string>("state") == "rolled-back");
    BOOST_TEST(failure->getValue<int>("exit_code") == 1);
    BOOST_TEST(contains(failure->getValue<std::string>("log_tail"), "check"),
               failure->getValue<std::string>("log_tail"));
    BOOST_TEST(json->getArray("history")->size() >= 1u);

    // The pilot's own history (the console's client page): its reports, newest first, the
    // rollback with its exit code and log among them.
    const auto history = http(port, "GET", "/api/v1/clients/" + ids[0] + "/history", rita);
    BOOST_TEST_REQUIRE(history.status == 200, history.body);
    const auto reports = parsed(history.body)->getArray("history");
    BOOST_TEST_REQUIRE(reports->size() >= 2u, history.body);
    BOOST_TEST(reports->getObject(0)->getValue<std::int64_t>("at") >=
               reports->getObject(reports->size() - 1)->getValue<std::int64_t>("at"));
    bool rolled_back = false;
    for (std::size_t i = 0; i < reports->size(); ++i) {
        const auto report = reports->getObject(static_cast<unsigned>(i));
        if (report->getValue<std::string>("state") != "rolled-back") continue;
        rolled_back = true;
        BOOST_TEST(report->getValue<std::string>("package") == "broken@1.0");
        BOOST_TEST(report->getValue<int>("exit_code") == 1);
        BOOST_TEST(contains(report->getValue<std::string>("advertisement"), "ADV-"));
    }
    BOOST_TEST(rolled_back, history.body);

    // The readiness review: the production waves start, and hello completes.
    pass_readiness_review(ref);
    r = cycle_until(hello, [](const Poco::JSON::Object::Ptr& r) {
        return r->getValue<std::string>("state") == "completed";
    });
    for (int i = 0; i < 4; ++i) BOOST_TEST(current(i, "hello") == "1.0");
    BOOST_TEST(release_state() == "deploying");  // broken's rollout is unfinished
    const auto shown = run_ctl({"rollout", "show", hello}, rita).out;
    BOOST_TEST(contains(shown, "[##############################]"), shown);

    // A client that joins the fleet later is placed in a wave and served.
    enrol(4);
    run_ctl({"collection", "update", "fleet", "--members", members()}, rita);
    r = cycle_until(hello, [](const Poco::JSON::Object::Ptr& r) {
        return r->getObject("totals")->getValue<int>("succeeded") == 5;
    });
    BOOST_TEST(current(4, "hello") == "1.0");

    // hello's rollout completed; cancelling broken, the last unfinished one, ends the
    // deployment: the release is deployed.
    run_ctl({"rollout", "cancel", broken, "--reason", "replaced by a fix"}, rita);
    BOOST_TEST(release_state() == "deployed");
    const auto watched = ctl({"rollout", "watch", hello, "--timeout", "5"}, rita);
    BOOST_TEST(watched.exit_code == 0, watched.err);
    BOOST_TEST(contains(watched.out, "completed"), watched.out);
    const auto refused = ctl({"rollout", "halt", hello}, rita);
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(contains(refused.err, "only an active rollout can be halted"), refused.err);

    // Closing needs the post-deployment review; the results are kept with it.
    const auto short_review = ctl({"release", "transition", ref, "closed", "--reason", "ok"}, rita);
    BOOST_TEST(short_review.exit_code == 2, short_review.err);
    BOOST_TEST(contains(short_review.err, "post-deployment review"), short_review.err);
    run_ctl({"release", "transition", ref, "closed", "--reason",
             "hello went out in three waves; broken was halted by its pilot and replaced"},
            rita);
    const auto closed = parsed(run_ctl({"release", "show", ref, "--json"}, rita).out);
    const auto results = closed->getObject("closing_results");
    BOOST_TEST_REQUIRE(!results.isNull());
    BOOST_TEST(results->getValue<int>("succeeded") == 5);
    BOOST_TEST(results->getValue<int>("rolled_back") == 1);
    BOOST_TEST(contains(run_ctl({"release", "show", ref}, rita).out,
                        "results when closed: 5 succeeded, 0 failed, 1 rolled back"));
}

BOOST_FIXTURE_TEST_CASE(ABackoutReturnsEveryAgentToThePreviousVersion, Fleet) {
    // hello 1.0 on every agent (the first release), then 1.1 in waves (a second release).
    pass_readiness_review(ref);
    run_ctl({"advertise", "hello@1.0", "--collection", "fleet", "--mandatory"}, rita);
    for (int round = 0; round < 100; ++round) {
        bool all = true;
        for (int i = 0; i < 4; ++i) all = all && current(i, "hello") == "1.0";
        if (all) break;
        for (int i = 0; i < 4; ++i) agent(i, {"run", "--once"});
    }
    for (int i = 0; i < 4; ++i) BOOST_TEST_REQUIRE(current(i, "hello") == "1.0");
    run_ctl({"rfc", "create", "--title", "hello 1.1"}, rita);
    run_ctl({"rfc", "approve", "RFC-0002"}, carl);
    const auto created = run_ctl({"release", "create", "--title", "hello 1.1", "--rfc", "RFC-0002",
                                  "--package", "hello@1.1"},
                                 rita);
    const std::string fix = created.out.substr(created.out.find("REL-"), 13);
    run_ctl({"release", "transition", fix, "building"}, rita);
    run_ctl({"release", "transition", fix, "testing"}, rita);
    pass_readiness_review(fix);
    const std::string update = create({"hello@1.1", "--collection", "fleet", "--waves",
                                       "pilots,50%", "--mandatory", "--success", "100"});
    cycle_until(update, [](const Poco::JSON::Object::Ptr& r) {
        return r->getValue<std::string>("state") == "completed";
    });
    for (int i = 0; i < 4; ++i) BOOST_TEST(current(i, "hello") == "1.1");
    BOOST_TEST(release_state(fix) == "deployed");

    // One command: every agent returns to 1.0, in the waves the update went out in.
    const auto refused = ctl({"release", "backout", fix, "--reason", "short"}, rita);
    BOOST_TEST(refused.exit_code == 2, refused.err);
    BOOST_TEST(contains(refused.err, "field \"reason\""), refused.err);
    const auto backout =
        ctl({"release", "backout", fix, "--reason", "1.1 breaks the settings"}, rita);
    BOOST_TEST_REQUIRE(backout.exit_code == 0, backout.err);
    BOOST_TEST(contains(backout.out, "4 client(s) return to what they had before, in 1 rollout(s)"),
               backout.out);
    const std::string back = backout.out.substr(backout.out.find("RO-"), 7);
    auto r = cycle_until(back, [](const Poco::JSON::Object::Ptr& r) {
        return r->getValue<std::string>("state") == "completed";
    });
    BOOST_TEST(r->getArray("waves")->size() == 3u);
    // Each agent is backed out in the wave it was updated in.
    const auto original = rollout(update)->getArray("waves");
    const auto backed = r->getArray("waves");
    for (unsigned w = 0; w < 3; ++w)
        BOOST_TEST(backed->getObject(w)->getValue<int>("members") ==
                   original->getObject(w)->getValue<int>("members"));
    for (int i = 0; i < 4; ++i) BOOST_TEST(current(i, "hello") == "1.0");
    BOOST_TEST(release_state(fix) == "backed-out");
    const auto changelog = run_ctl({"changelog"}, rita).out;
    BOOST_TEST(contains(changelog, "backed-out: 1.1 breaks the settings"), changelog);
    BOOST_TEST(rollout(update)->getValue<std::string>("state") == "completed");
    const auto report = run_ctl({"release", "report", fix}, rita).out;
    BOOST_TEST(contains(report, fix + "  backed-out"), report);
    BOOST_TEST(contains(report, "install hello@1.0 on backout-adv-0002-1"), report);
    BOOST_TEST(contains(report, "[####################]"), report);
}
