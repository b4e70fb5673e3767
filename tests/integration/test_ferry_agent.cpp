// Real agents against a real site on loopback (issue 4): enrolment; a mandatory install of
// hello 1.0, the upgrade to 1.1, a manual rollback and an uninstall; broken rolled back by its
// health check; postpones within the rules and refused past them; an install killed with
// SIGKILL and recovered; a tampered object and a replayed old policy refused; status and
// inventory visible at the site.
#define BOOST_TEST_MODULE ferry_agent
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ferry/sqlite.h"
#include "site_fixture.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

// True while the process exists and is not a zombie (nobody may reap orphans in a container).
bool running(const std::string& pid) {
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    const auto paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

// A site with every sample package (and a slow one) pushed, trusted and carried by a release in
// testing, so that pilot collections take advertisements; one agent enrolled and in the pilot.
struct Deployment : RunningSite {
    std::string rita, ref, client_id;
    TempDir agent_dir;

    Deployment() {
        const std::string samples = std::string(FERRY_SOURCE_DIR) + "/samples/packages";
        pack({"keygen", "-o", "pub"});
        BOOST_TEST_REQUIRE(
            ctl({"publisher", "add", "Samples", "--pub", dir / "pub.pub", "--packages", "*"}, token)
                .exit_code == 0);
        for (const std::string name : {"hello-1.0", "hello-1.1", "broken-1.0"})
            build_and_push(samples + "/" + name, name);
        write_slow_package();
        build_and_push(dir / "slow-src", "slow-1.0");

        rita = user("rita", "release-manager");
        const std::string carl = user("carl", "cab");
        BOOST_TEST_REQUIRE(ctl({"rfc", "create", "--title", "Agents"}, rita).exit_code == 0);
        BOOST_TEST_REQUIRE(ctl({"rfc", "approve", "RFC-0001"}, carl).exit_code == 0);
        const auto release = ctl({"release", "create", "--title", "agents", "--rfc", "RFC-0001",
                                  "--package", "hello@1.0,hello@1.1,broken@1.0,slow@1.0"},
                                 rita);
        BOOST_TEST_REQUIRE(release.exit_code == 0, release.err);
        ref = release.out.substr(release.out.find("REL-"), 13);
        BOOST_TEST_REQUIRE(ctl({"release", "transition", ref, "building"}, rita).exit_code == 0);
        BOOST_TEST_REQUIRE(ctl({"release", "transition", ref, "testing"}, rita).exit_code == 0);

        const auto secret = ctl({"secret", "create", "--json"}, token);
        BOOST_TEST_REQUIRE(secret.exit_code == 0, secret.err);
        const auto enrolled = agent({"enroll", "--server", server(), "--secret",
                                     json_field(secret.out, "secret"), "--hostname", "ws-01"});
        BOOST_TEST_REQUIRE(enrolled.exit_code == 0, enrolled.err);
        client_id = enrolled.out.substr(12, enrolled.out.find(' ', 12) - 12);
        BOOST_TEST_REQUIRE(client_id.rfind("cl_", 0) == 0, enrolled.out);
        const auto pilot =
            ctl({"collection", "create", "pilot", "--pilot", "--members", client_id}, rita);
        BOOST_TEST_REQUIRE(pilot.exit_code == 0, pilot.err);
    }

    void pack(std::vector<std::string> args) {
        args.insert(args.begin(), FERRY_PACK_BINARY);
        const auto r = run_process(args, "", dir.path());
        BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    }

    void build_and_push(const std::string& source, const std::string& name) {
        pack({"build", source, "-o", name + ".ferry", "--key", "pub.key"});
        pack({"push", name + ".ferry", "--server", server(), "--token", token});
    }

    // slow 1.0: its install script waits for a minute while the flag file exists, so that a
    // test can kill the agent in the middle of it.
    void write_slow_package() {
        write_file(dir / "slow-src/ferry.json",
                   R"({"name": "slow", "version": "1.0", "publisher": "Tests",
                       "description": "An install that takes its time"})");
        write_file(dir / "slow-src/files/data.txt", "slow\n");
        write_file(
            dir / "slow-src/scripts/install",
            "#!/bin/sh\nif [ -e \"$FERRY_ROOT/../slow-flag\" ]; then\n"
            "  echo $$ > \"$FERRY_ROOT/../slow-started\"\n  sleep 60\nfi\necho slow installed\n",
            0755);
    }

    std::string user(const std::string& name, const std::string& role) {
        const auto added = ctl({"user", "add", name, "--role", role, "--json"}, token);
        BOOST_TEST_REQUIRE(added.exit_code == 0, added.err);
        return token_in(added.out);
    }

    std::string state_dir() const { return agent_dir / "state"; }
    std::string root() const { return agent_dir / "root"; }

    ProcessResult agent(std::vector<std::string> args) const {
        args.insert(args.begin(), FERRY_AGENT_BINARY);
        args.insert(args.end(), {"--state-dir", state_dir(), "--root", root()});
        return run_process(args);
    }

    std::string advertise(const std::vector<std::string>& options) {
        std::vector<std::string> args = {"advertise"};
        args.insert(args.end(), options.begin(), options.end());
        const auto made = ctl(args, rita);
        BOOST_TEST_REQUIRE(made.exit_code == 0, made.err);
        return made.out.substr(made.out.find("ADV-"), 8);
    }

    // Runs agent cycles until `list` shows `needle` (the site builds policy in the background).
    std::string cycle_until(const std::string& needle) {
        std::string shown;
        for (int i = 0; i < 60; ++i) {
            const auto cycle = agent({"run", "--once"});
            BOOST_TEST_REQUIRE(cycle.exit_code == 0, cycle.err);
            shown = agent({"list"}).out;
            if (contains(shown, needle)) return shown;
            std::this_thread::sleep_for(150ms);
        }
        BOOST_FAIL("the agent never showed \"" + needle + "\":\n" + shown);
        return shown;
    }

    std::string current(const std::string& package) const {
        std::error_code ec;
        return std::filesystem::read_symlink(root() + "/" + package + "/current", ec).string();
    }

    // The client's row in the site's report on `advertisement`.
    std::string site_status(const std::string& advertisement) {
        const auto report = ctl({"advertisement", "status", advertisement}, token);
        BOOST_TEST_REQUIRE(report.exit_code == 0, report.err);
        return report.out;
    }

    std::string local_time_window_closed_now() const {
        // A daily window that starts in three hours (agent local time): closed now.
        const std::time_t now = std::time(nullptr) + 3 * 3600;
        std::tm tm{};
        localtime_r(&now, &tm);
        char text[32];
        std::snprintf(text, sizeof text, "daily %02d:00-%02d:30", tm.tm_hour, tm.tm_hour);
        return text;
    }
};

// Serves one fixed answer to every GET: a distribution point replaying an old policy.
class ReplayServer {
  public:
    explicit ReplayServer(std::string body)
        : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)),
          server_(new Factory(std::move(body)), socket_, new Poco::Net::HTTPServerParams) {
        server_.start();
    }
    ~ReplayServer() { server_.stopAll(true); }
    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(socket_.address().port());
    }

  private:
    struct Handler : Poco::Net::HTTPRequestHandler {
        explicit Handler(const std::string& body) : body_(body) {}
        void handleRequest(Poco::Net::HTTPServerRequest& request,
                           Poco::Net::HTTPServerResponse& response) override {
            response.setContentType("application/json");
            if (request.getMethod() != "GET") {  // reports: "come back later"
                response.setStatus(Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
                response.send() << R"({"message": "busy"})";
                return;
            }
            response.set("ETag", "\"replayed\"");
            response.sendBuffer(body_.data(), body_.size());
        }
        const std::string& body_;
    };
    struct Factory : Poco::Net::HTTPRequestHandlerFactory {
        explicit Factory(std::string body) : body_(std::move(body)) {}
        Poco::Net::HTTPRequestHandler* createRequestHandler(
            const Poco::Net::HTTPServerRequest&) override {
            return new Handler(body_);
        }
        std::string body_;
    };
    Poco::Net::ServerSocket socket_;
    Poco::Net::HTTPServer server_;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(EnrolInstallUpgradeRollBackAndUninstall, Deployment) {
    // A bad secret is refused clearly; the state keeps the first enrolment.
    TempDir other;
    const auto refused = run_process({FERRY_AGENT_BINARY, "enroll", "--server", server(),
                                      "--secret", "enrol_wrong", "--state-dir", other / "s"});
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(contains(refused.err, "enrolment refused"), refused.err);
    const auto unreachable =
        run_process({FERRY_AGENT_BINARY, "enroll", "--server", "http://127.0.0.1:1", "--secret",
                     "enrol_x", "--state-dir", other / "s"});
    BOOST_TEST(unreachable.exit_code == 2);
    BOOST_TEST(contains(unreachable.err, "cannot reach ferryd at http://127.0.0.1:1"),
               unreachable.err);

    // A site key given at enrolment is checked: another key is refused, the right one pinned.
    const auto created = ctl({"secret", "create", "--name", "keyed", "--json"}, token);
    BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
    const auto secret = json_field(created.out, "secret");
    const auto wrong_key =
        run_process({FERRY_AGENT_BINARY, "enroll", "--server", server(), "--secret", secret,
                     "--site-key", dir / "pub.pub", "--state-dir", other / "k"});
    BOOST_TEST(wrong_key.exit_code == 1);
    BOOST_TEST(contains(wrong_key.err, "presented the key"), wrong_key.err);
    const auto right_key =
        run_process({FERRY_AGENT_BINARY, "enroll", "--server", server(), "--secret", secret,
                     "--site-key", dir / "site/keys/site.pub", "--state-dir", other / "k"});
    BOOST_TEST(right_key.exit_code == 0, right_key.err);

    // A mandatory install of hello 1.0, as soon as possible.
    const std::string first = advertise({"hello@1.0", "--collection", "pilot", "--mandatory"});
    cycle_until("installed");
    BOOST_TEST(current("hello") == "1.0");
    BOOST_TEST(contains(read_file(root() + "/hello/1.0/files/etc/hello.conf"), "1.0"));
    BOOST_TEST(contains(site_status(first), "installed"));

    // The upgrade to 1.1 keeps 1.0 for rollback.
    const std::string upgrade = advertise({"hello@1.1", "--collection", "pilot", "--mandatory"});
    cycle_until(upgrade + "      hello@1.1           install   installed");
    BOOST_TEST(current("hello") == "1.1");
    BOOST_TEST(path_exists(root() + "/hello/1.0/files/bin/hello"));
    BOOST_TEST(contains(agent({"list"}).out, "hello               1.1         1.0"));

    // broken fails its health check: rolled back automatically, reported with its exit code.
    const std::string broken = advertise({"broken@1.0", "--collection", "pilot", "--mandatory"});
    cycle_until("rolled-back");
    BOOST_TEST(!path_exists(root() + "/broken/current"));
    BOOST_TEST(!path_exists(root() + "/broken/1.0"));
    std::string report;
    for (int i = 0; i < 20 && !contains(report, "rolled-back"); ++i) {
        report = site_status(broken);
        std::this_thread::sleep_for(100ms);
    }
    BOOST_TEST(contains(report, "rolled-back"), report);
    BOOST_TEST(contains(report, "check failed"), report);

    // A manual rollback needs no network.
    const auto rolled = agent({"rollback", "hello"});
    BOOST_TEST(rolled.exit_code == 0, rolled.err);
    BOOST_TEST(contains(rolled.out, "rolled back from 1.1 to 1.0"), rolled.out);
    BOOST_TEST(current("hello") == "1.0");
    const auto again = agent({"rollback", "broken"});
    BOOST_TEST(again.exit_code == 2);
    BOOST_TEST(contains(again.err, "broken is not installed"), again.err);

    // Inventory at the site: the system and Ferry's own packages.
    agent({"run", "--once"});
    const auto shown = ctl({"client", "show", client_id}, token);
    BOOST_TEST(contains(shown.out, "ferry:hello 1.0"), shown.out);
    BOOST_TEST(contains(shown.out, "hw.memory_mb"), shown.out);

    // Uninstall removes every version.
    const std::string removal =
        advertise({"hello@1.0", "--collection", "pilot", "--action", "uninstall", "--mandatory"});
    cycle_until(removal + "      hello@1.0           uninstall uninstalled");
    BOOST_TEST(!path_exists(root() + "/hello"));
    BOOST_TEST(contains(site_status(removal), "uninstalled"));
}

BOOST_FIXTURE_TEST_CASE(PostponeWithinTheRulesThenInstallOnRequest, Deployment) {
    // The daemon runs; the commands below reach it through its control socket.
    BOOST_TEST(contains(agent({"status"}).out, "daemon      not running"));
    BackgroundProcess daemon({FERRY_AGENT_BINARY, "run", "--interval", "1", "--state-dir",
                              state_dir(), "--root", root()});
    for (int i = 0; i < 100 && !path_exists(state_dir() + "/agent.sock"); ++i)
        std::this_thread::sleep_for(50ms);
    BOOST_TEST(contains(agent({"status"}).out, "daemon      running"));

    const std::string ad =
        advertise({"hello@1.0", "--collection", "pilot", "--mandatory", "--deadline", "+2d",
                   "--postpone-max", "1", "--window", local_time_window_closed_now()});
    cycle_until("waiting");  // pre-staged, outside its maintenance window
    BOOST_TEST(!path_exists(root() + "/hello"));

    const auto postponed = agent({"postpone", ad, "--for", "2h"});
    BOOST_TEST(postponed.exit_code == 0, postponed.err);
    BOOST_TEST(contains(postponed.out, "0 postpone(s) left"), postponed.out);
    const auto refused = agent({"postpone", ad});
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(contains(refused.err, "no postpones left"), refused.err);

    // The user may start it now, outside the window.
    const auto installed = agent({"install", ad});
    BOOST_TEST(installed.exit_code == 0, installed.err);
    BOOST_TEST(current("hello") == "1.0");
    BOOST_TEST(contains(site_status(ad), "installed"));

    // SIGTERM stops the daemon cleanly and removes its socket.
    daemon.signal(SIGTERM);
    BOOST_TEST(daemon.wait(10s) == 0);
    BOOST_TEST(!path_exists(state_dir() + "/agent.sock"));
}

BOOST_FIXTURE_TEST_CASE(AnInstallKilledMidwayIsRecoveredOnRestart, Deployment) {
    write_file(agent_dir / "slow-flag", "");
    const std::string ad = advertise({"slow@1.0", "--collection", "pilot", "--mandatory"});
    std::this_thread::sleep_for(500ms);  // the policy is built in the background
    {
        BackgroundProcess daemon({FERRY_AGENT_BINARY, "run", "--interval", "1", "--state-dir",
                                  state_dir(), "--root", root()});
        for (int i = 0; i < 300 && !path_exists(agent_dir / "slow-started"); ++i)
            std::this_thread::sleep_for(100ms);
        BOOST_TEST_REQUIRE(path_exists(agent_dir / "slow-started"));
        daemon.signal(SIGKILL);
        daemon.wait(5s);
    }
    BOOST_TEST(contains(agent({"status"}).out, "in progress install of slow (step installing)"));
    BOOST_TEST(path_exists(root() + "/slow/1.0"));

    // The script outlived the agent (its own process group); the restart kills it before
    // undoing what it was doing.
    const std::string script_pid = trimmed(read_file(agent_dir / "slow-started"));
    BOOST_TEST(running(script_pid));

    // Restart: the interrupted install is undone, reported, then tried again (now quick).
    std::filesystem::remove(agent_dir / "slow-flag");
    cycle_until("installed");
    BOOST_TEST(!running(script_pid));
    BOOST_TEST(current("slow") == "1.0");
    BOOST_TEST(!contains(agent({"status"}).out, "in progress"));
    sql::Database db(state_dir() + "/agent.db");
    auto failed = db.prepare(
        "SELECT count(*) FROM outbox WHERE state = 'failed' AND log_tail LIKE '%interrupted%'");
    failed.step();
    BOOST_TEST(failed.column_int64(0) == 1);
}

BOOST_FIXTURE_TEST_CASE(ATamperedObjectAndAReplayedPolicyAreRefused, Deployment) {
    // The policy before anything is advertised: what a hostile DP could keep and replay.
    std::string client_token;
    {
        sql::Database db(state_dir() + "/agent.db");
        auto row = db.prepare("SELECT token FROM enrolment");
        BOOST_TEST_REQUIRE(row.step());
        client_token = row.column_text(0);
    }
    HttpAnswer old_policy;
    for (int i = 0; i < 50 && old_policy.status != 200; ++i) {
        old_policy = http(port, "GET", "/api/v1/clients/" + client_id + "/policy", client_token);
        if (old_policy.status != 200) std::this_thread::sleep_for(100ms);
    }
    BOOST_TEST_REQUIRE(old_policy.status == 200, old_policy.body);

    const std::string ad =
        advertise({"hello@1.0", "--collection", "pilot", "--mandatory", "--deadline", "+2d",
                   "--window", local_time_window_closed_now()});
    cycle_until("waiting");

    // One flipped byte in the pre-staged object: refused at install, deleted, reported.
    std::string object;
    for (const auto& entry : std::filesystem::directory_iterator(state_dir() + "/cache"))
        object = entry.path().string();
    BOOST_TEST_REQUIRE(!object.empty());
    {
        std::fstream file(object, std::ios::in | std::ios::out | std::ios::binary);
        file.seekg(700);
        const char was = static_cast<char>(file.get());
        file.seekp(700);
        file.put(static_cast<char>(was ^ 0x5a));
    }
    const auto installed = agent({"install", ad});
    BOOST_TEST(installed.exit_code == 1);
    BOOST_TEST(contains(installed.err, "refused"), installed.err);
    BOOST_TEST(!path_exists(object));
    BOOST_TEST(!path_exists(root() + "/hello"));
    BOOST_TEST(contains(site_status(ad), "refused"));

    // A replayed older policy (a DP serving yesterday's document) is refused; the accepted
    // one stays, and the refusal is reported with the inventory.
    std::int64_t accepted = 0;
    {
        sql::Database db(state_dir() + "/agent.db");
        {
            auto row = db.prepare("SELECT version FROM policy");
            BOOST_TEST_REQUIRE(row.step());
            accepted = row.column_int64(0);
        }
        ReplayServer replay(old_policy.body);
        db.prepare("UPDATE enrolment SET server = ?1").bind(1, replay.url()).run();
        const auto cycle = agent({"run", "--once"});
        BOOST_TEST(contains(cycle.err, "refused a policy"), cycle.err);
        BOOST_TEST(contains(cycle.err, "is older than the accepted version"), cycle.err);
        db.prepare("UPDATE enrolment SET server = ?1").bind(1, server()).run();
    }
    const auto status = agent({"status"});
    BOOST_TEST(contains(status.out, "policy      version " + std::to_string(accepted)), status.out);
    BOOST_TEST(contains(status.out, "refused     at"), status.out);
    agent({"run", "--once"});
    BOOST_TEST(contains(ctl({"client", "show", client_id}, token).out, "agent.policy_refusal"));
}
