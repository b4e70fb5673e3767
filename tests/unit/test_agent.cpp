// The agent's logic without a network (issue 4): journal recovery after a kill at every step
// of install, uninstall and rollback; policy acceptance (THREATS.md 8–11) with the last good
// policy kept; dependencies installed first, missing ones and cycles refused; a status batch
// the site refuses for one advertisement does not block the others.
#define BOOST_TEST_MODULE agent
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <map>
#include <sstream>

#include "agent.h"
#include "ferry/error.h"
#include "ferry/hash.h"
#include "ferry/package_signature.h"
#include "ferry/package_writer.h"
#include "ferry/policy.h"
#include "temp_dir.h"

using namespace ferry;
using namespace ferry::agent;
using namespace ferry::test;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;

struct Killed {};  // thrown from a step hook: the process "dies" there

struct BuiltPackage {
    std::string object_path;
    std::string object_id;
    std::uint64_t size = 0;
    std::string signature;
    Manifest manifest;
};

// The network as the agent sees it, served from memory.
struct FakeLink : SiteLink {
    std::string envelope;  // served when the ETag differs
    std::string etag = "\"v\"";
    std::map<std::string, std::string> objects;  // id -> path
    std::vector<std::string> posted;
    std::string refuse_status_for;  // an ADV the site says does not target us

    PolicyAnswer fetch_policy(const std::string&, const std::string& known) override {
        if (envelope.empty()) return {PolicyAnswer::Kind::NotReady, "", ""};
        if (known == etag) return {PolicyAnswer::Kind::Unchanged, etag, ""};
        return {PolicyAnswer::Kind::Fresh, etag, envelope};
    }
    Poco::JSON::Object::Ptr post(const std::string& path, const std::string& body) override {
        if (path == "/api/v1/status" && !refuse_status_for.empty() &&
            body.find(refuse_status_for) != std::string::npos)
            throw Error(ErrorCode::Forbidden, refuse_status_for + " does not target this client");
        posted.push_back(path + " " + body);
        return new Poco::JSON::Object;
    }
    void download(const std::string& id, std::uint64_t, const std::string& cache_dir) override {
        std::filesystem::copy_file(objects.at(id), cache_dir + "/" + id);
    }
};

// What the agent owns is a proxy; the fake itself outlives every agent of a test (restarts).
struct LinkProxy : SiteLink {
    explicit LinkProxy(FakeLink* fake) : fake_(fake) {}
    PolicyAnswer fetch_policy(const std::string& id, const std::string& etag) override {
        return fake_->fetch_policy(id, etag);
    }
    Poco::JSON::Object::Ptr post(const std::string& path, const std::string& body) override {
        return fake_->post(path, body);
    }
    void download(const std::string& id, std::uint64_t size, const std::string& dir) override {
        fake_->download(id, size, dir);
    }
    FakeLink* fake_;
};

struct World {
    TempDir dir;
    minisign::SecretKey site = minisign::SecretKey::generate();
    minisign::SecretKey publisher = minisign::SecretKey::generate();
    std::int64_t now = kNow;
    std::uint64_t cache_limit = 4ULL << 30;
    std::unique_ptr<FakeLink> fake = std::make_unique<FakeLink>();
    FakeLink* link = fake.get();
    AgentPaths paths{dir / "state", dir / "root"};
    std::unique_ptr<Agent> agent;
    std::map<std::string, BuiltPackage> packages;  // "name-version"

    World() {
        std::filesystem::create_directories(paths.state_dir);
        AgentState(paths.database())
            .save_enrolment({"http://127.0.0.1:1", "cl_test", "client_x",
                             site.public_key().to_base64(), kNow, "active"});
        start_agent();
    }

    void start_agent() {
        agent.reset();
        AgentOptions options;
        options.clock = [this] { return now; };
        options.cache_limit_bytes = cache_limit;
        options.system_root = dir / "no-system";
        agent = std::make_unique<Agent>(paths, options,
                                        [this](const Enrolment&, const std::vector<std::string>&) {
                                            return std::make_unique<LinkProxy>(link);
                                        });
    }

    // A package whose install hook appends "install VERSION REASON" to hooks.log and whose
    // check fails when `healthy` is false.
    const BuiltPackage& build(const std::string& name, const std::string& version,
                              bool healthy = true, const std::string& depends = "") {
        const std::string src = dir / ("src-" + name + "-" + version);
        const std::string log = dir / "hooks.log";
        write_file(src + "/ferry.json",
                   R"({"name": ")" + name + R"(", "version": ")" + version +
                       R"(", "publisher": "Tests")" +
                       (depends.empty() ? "" : R"(, "dependencies": [)" + depends + "]") + "}");
        write_file(src + "/files/" + name + ".txt", name + " " + version + "\n");
        write_file(src + "/scripts/install",
                   "#!/bin/sh\necho \"install $FERRY_PACKAGE $FERRY_VERSION $FERRY_REASON\" >> " +
                       log + "\n",
                   0755);
        write_file(src + "/scripts/check", healthy ? "#!/bin/sh\nexit 0\n" : "#!/bin/sh\nexit 3\n",
                   0755);
        write_file(src + "/scripts/uninstall",
                   "#!/bin/sh\necho \"uninstall $FERRY_PACKAGE\" >> " + log + "\n", 0755);
        const std::string out = dir / (name + "-" + version + ".ferry");
        const BuildResult built = build_package(src, out);
        FileDigest digest{built.object_id, built.size, built.prehash};
        BuiltPackage package{
            out, built.object_id, built.size,
            sign_package(publisher, digest, built.manifest, name + ".ferry").to_file_text(),
            built.manifest};
        return packages[name + "-" + version] = package;
    }

    PolicyAdvertisement advertisement(const std::string& id, const std::string& key,
                                      const std::string& action = "install") {
        const BuiltPackage& p = packages.at(key);
        PolicyAdvertisement ad;
        ad.id = id;
        ad.package = p.manifest.name;
        ad.version = p.manifest.version;
        ad.object_id = p.object_id;
        ad.size = p.size;
        ad.signature = p.signature;
        ad.action = action;
        ad.available_at = kNow - 60;
        ad.mandatory = true;
        return ad;
    }

    std::string envelope(std::uint64_t version, const std::vector<PolicyAdvertisement>& ads,
                         const minisign::SecretKey* key = nullptr,
                         const std::string& client = "cl_test", std::int64_t expires = 0) {
        Policy policy;
        policy.client_id = client;
        policy.version = version;
        policy.issued_at = now;
        policy.expires_at = expires ? expires : now + 7 * 86400;
        policy.publishers.push_back({"Tests", publisher.public_key().to_base64(), {"*"}});
        policy.advertisements = ads;
        const SignedPolicy signed_policy = sign_policy(policy, key ? *key : site);
        Poco::JSON::Object out;
        out.set("client_id", client);
        out.set("policy", signed_policy.json);
        out.set("signature", signed_policy.signature);
        out.set("version", version);
        std::ostringstream text;
        Poco::JSON::Stringifier::stringify(out, text);
        return text.str();
    }

    // Serves a policy (and every built object) and runs one cycle.
    std::vector<std::string> serve_and_cycle(const std::string& envelope_text) {
        agent->cycle();  // makes the link if needed (a first cycle with nothing served is fine)
        link->envelope = envelope_text;
        link->etag = "\"" + hash_bytes(envelope_text.data(), envelope_text.size()) + "\"";
        for (const auto& [key, p] : packages) link->objects[p.object_id] = p.object_path;
        return agent->cycle();
    }

    std::string current(const std::string& name) const {
        std::error_code ec;
        return std::filesystem::read_symlink(paths.current_link(name), ec).string();
    }
    std::string hooks() const {
        return path_exists(dir / "hooks.log") ? read_file(dir / "hooks.log") : "";
    }
    std::string state_of(const std::string& id) {
        return agent->state().advertisement(id).value_or(AdvertisementRecord{}).state;
    }
};

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

// Installs app 1.0, then 2.0 with a kill at `step`; returns the world after the restart's
// recovery.
void kill_upgrade_at(World& w, const std::string& step) {
    w.build("app", "1.0");
    w.build("app", "2.0");
    const auto v1 = w.advertisement("ADV-0001", "app-1.0");
    w.serve_and_cycle(w.envelope(1, {v1}));
    BOOST_TEST_REQUIRE(w.current("app") == "1.0");
    w.agent->installer().after_step = [step](const std::string& reached) {
        if (reached == step) throw Killed{};
    };
    auto v2 = w.advertisement("ADV-0002", "app-2.0");
    BOOST_CHECK_THROW(w.serve_and_cycle(w.envelope(2, {v1, v2})), Killed);
    BOOST_TEST_REQUIRE(w.agent->state().open_journal().has_value());
}

}  // namespace

BOOST_AUTO_TEST_CASE(AnInstallKilledAtAnyStepEndsBackOnThePreviousVersion) {
    for (const std::string step : {"extracting", "installing", "switching", "checking"}) {
        BOOST_TEST_CONTEXT("killed at " << step) {
            World w;
            kill_upgrade_at(w, step);
            std::filesystem::remove(w.dir / "hooks.log");
            w.start_agent();  // the restart
            const auto recovered = w.agent->installer().recover();
            BOOST_TEST_REQUIRE(recovered.has_value());
            BOOST_TEST(recovered->outcome.state == "failed");
            BOOST_TEST(has(recovered->outcome.detail, "back on 1.0"), recovered->outcome.detail);
            BOOST_TEST(w.current("app") == "1.0");
            BOOST_TEST(!path_exists(w.paths.version_dir("app", "2.0")));
            BOOST_TEST(path_exists(w.paths.version_dir("app", "1.0") + "/files/app.txt"));
            BOOST_TEST(w.agent->state().version("app", "current")->version == "1.0");
            BOOST_TEST(!w.agent->state().open_journal().has_value());
            // Once the new version's scripts may have run, 1.0's install hook runs again.
            BOOST_TEST(has(w.hooks(), "install app 1.0 restore") == (step != "extracting"),
                       w.hooks());
        }
    }
}

BOOST_AUTO_TEST_CASE(AfterRecoveryTheInterruptedInstallIsRetriedAndReported) {
    World w;
    kill_upgrade_at(w, "checking");
    w.start_agent();
    const auto log = w.agent->cycle();  // recovers, then installs 2.0 again
    BOOST_TEST(w.current("app") == "2.0");
    BOOST_TEST(w.state_of("ADV-0002") == "installed");
    bool reported_failure = false;
    for (const auto& post : w.link->posted)
        reported_failure |= has(post, "interrupted install of app 2.0");
    BOOST_TEST(reported_failure);
}

BOOST_AUTO_TEST_CASE(UninstallAndRollbackKilledAtAnyStepAreConsistent) {
    for (const std::string step : {"uninstalling", "removing"}) {
        BOOST_TEST_CONTEXT("uninstall killed at " << step) {
            World w;
            w.build("app", "1.0");
            w.serve_and_cycle(w.envelope(1, {w.advertisement("ADV-0001", "app-1.0")}));
            w.agent->installer().after_step = [step](const std::string& reached) {
                if (reached == step) throw Killed{};
            };
            BOOST_CHECK_THROW(w.agent->installer().uninstall("app", "ADV-0002"), Killed);
            w.start_agent();
            w.agent->installer().recover();
            if (step == "removing") {  // past the script: finished
                BOOST_TEST(!path_exists(w.paths.package_dir("app")));
                BOOST_TEST(!w.agent->state().version("app", "current").has_value());
            } else {  // in the script: undone, still installed
                BOOST_TEST(w.current("app") == "1.0");
                BOOST_TEST(w.agent->state().version("app", "current")->version == "1.0");
            }
            BOOST_TEST(!w.agent->state().open_journal().has_value());
        }
    }
    for (const std::string step : {"switching", "installing"}) {
        BOOST_TEST_CONTEXT("rollback killed at " << step) {
            World w;
            w.build("app", "1.0");
            w.build("app", "2.0");
            const auto v1 = w.advertisement("ADV-0001", "app-1.0");
            w.serve_and_cycle(w.envelope(1, {v1}));
            w.serve_and_cycle(w.envelope(2, {v1, w.advertisement("ADV-0002", "app-2.0")}));
            BOOST_TEST_REQUIRE(w.current("app") == "2.0");
            w.agent->installer().after_step = [step](const std::string& reached) {
                if (reached == step) throw Killed{};
            };
            BOOST_CHECK_THROW(w.agent->installer().rollback("app"), Killed);
            w.start_agent();
            w.agent->installer().recover();
            BOOST_TEST(w.current("app") == "2.0");
            BOOST_TEST(w.agent->state().version("app", "current")->version == "2.0");
            BOOST_TEST(w.agent->state().version("app", "previous")->version == "1.0");
            BOOST_TEST(!w.agent->state().open_journal().has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(AFailedFirstInstallLeavesNothingBehind) {
    World w;
    w.build("solo", "1.0", false);  // its health check fails
    w.serve_and_cycle(w.envelope(1, {w.advertisement("ADV-0001", "solo-1.0")}));
    BOOST_TEST(w.state_of("ADV-0001") == "rolled-back");
    BOOST_TEST(w.current("solo").empty());
    BOOST_TEST(!path_exists(w.paths.package_dir("solo")));
}

BOOST_AUTO_TEST_CASE(AFailedHealthCheckRollsBackAndAManualRollbackChecksTheKeptTree) {
    World w;
    w.build("app", "1.0");
    w.build("app", "2.0", false);
    const auto v1 = w.advertisement("ADV-0001", "app-1.0");
    w.serve_and_cycle(w.envelope(1, {v1}));
    w.serve_and_cycle(w.envelope(2, {v1, w.advertisement("ADV-0002", "app-2.0")}));
    BOOST_TEST(w.state_of("ADV-0002") == "rolled-back");
    BOOST_TEST(w.current("app") == "1.0");
    BOOST_TEST(!path_exists(w.paths.version_dir("app", "2.0")));
    // Not retried: the same object already failed its check.
    w.agent->cycle();
    BOOST_TEST(w.state_of("ADV-0002") == "rolled-back");

    // A healthy 2.0 (another build, another object), then a rollback to a 1.0 whose kept tree
    // was altered: rebuilt from the cache; with the cache also altered: refused, nothing moves.
    w.build("app", "2.0");
    w.serve_and_cycle(w.envelope(3, {v1, w.advertisement("ADV-0003", "app-2.0")}));
    BOOST_TEST_REQUIRE(w.current("app") == "2.0");
    write_file(w.paths.version_dir("app", "1.0") + "/files/app.txt", "tampered\n");
    BOOST_TEST(w.agent->rollback("app").exit_code == 0);
    BOOST_TEST(w.current("app") == "1.0");
    BOOST_TEST(read_file(w.paths.version_dir("app", "1.0") + "/files/app.txt") == "app 1.0\n");

    w.agent->rollback("app");  // back to 2.0: previous is 1.0 again
    BOOST_TEST_REQUIRE(w.current("app") == "2.0");
    write_file(w.paths.version_dir("app", "1.0") + "/files/app.txt", "tampered\n");
    const std::string cached = w.paths.cache_dir() + "/" + w.packages.at("app-1.0").object_id;
    std::filesystem::permissions(cached, std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::add);
    write_file(cached, "not the object");
    const auto refused = w.agent->rollback("app");
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(has(refused.err, "no longer matches"), refused.err);
    BOOST_TEST(w.current("app") == "2.0");
}

BOOST_AUTO_TEST_CASE(PolicyAcceptanceKeepsTheLastGoodPolicy) {
    World w;
    w.serve_and_cycle(w.envelope(5, {}));
    BOOST_TEST_REQUIRE(w.agent->state().policy()->version == 5u);

    struct Case {
        std::string name;
        std::string envelope;
        std::string reason;
    };
    const minisign::SecretKey impostor = minisign::SecretKey::generate();
    const std::vector<Case> cases = {
        {"older version", w.envelope(4, {}), "older than the accepted version 5"},
        {"same version, other bytes", w.envelope(5, {}, nullptr, "cl_test", kNow + 86400),
         "version 5"},
        {"another client", w.envelope(6, {}, nullptr, "cl_other"), "cl_other"},
        {"another key", w.envelope(7, {}, &impostor), "policy refused"},
        {"expired", w.envelope(8, {}, nullptr, "cl_test", kNow - 1), "expired"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            const auto log = w.serve_and_cycle(c.envelope);
            BOOST_TEST(w.agent->state().policy()->version == 5u);
            const auto [reason, at] = w.agent->state().policy_refusal();
            BOOST_TEST(has(reason, c.reason), reason);
            BOOST_TEST(at == kNow);
        }
    }
    w.serve_and_cycle(w.envelope(9, {}));
    BOOST_TEST(w.agent->state().policy()->version == 9u);
    BOOST_TEST(w.agent->state().policy_refusal().first.empty());
}

BOOST_AUTO_TEST_CASE(AnExpiredPolicyStartsNothing) {
    World w;
    w.build("app", "1.0");
    w.serve_and_cycle(w.envelope(1, {}, nullptr, "cl_test", kNow + 100));
    w.now = kNow + 200;  // the site went quiet; the accepted policy expired
    w.link->envelope.clear();
    const auto log = w.agent->cycle();
    BOOST_TEST(w.current("app").empty());
    bool said = false;
    for (const auto& line : log) said |= has(line, "expired");
    BOOST_TEST(said);
}

BOOST_AUTO_TEST_CASE(DependenciesComeFirstMissingOnesAndCyclesAreRefused) {
    World w;
    w.build("lib", "1.2");
    w.build("app", "1.0", true, R"({"name": "lib", "min_version": "1.1"})");
    const auto app = w.advertisement("ADV-0001", "app-1.0");
    w.serve_and_cycle(w.envelope(1, {app}));
    BOOST_TEST(w.state_of("ADV-0001") == "refused");
    BOOST_TEST(has(w.agent->state().advertisement("ADV-0001")->detail,
                   "needs lib ≥ 1.1, which is neither installed nor in this client's policy"));

    World v;
    v.build("lib", "1.2");
    v.build("app", "1.0", true, R"({"name": "lib", "min_version": "1.1"})");
    v.serve_and_cycle(v.envelope(
        1, {v.advertisement("ADV-0001", "app-1.0"), v.advertisement("ADV-0002", "lib-1.2")}));
    BOOST_TEST(v.current("lib") == "1.2");
    BOOST_TEST(v.current("app") == "1.0");
    const std::string hooks = v.hooks();
    BOOST_TEST(hooks.find("install lib") < hooks.find("install app"), hooks);

    World c;
    c.build("a", "1.0", true, R"({"name": "b"})");
    c.build("b", "1.0", true, R"({"name": "a"})");
    c.serve_and_cycle(c.envelope(
        1, {c.advertisement("ADV-0001", "a-1.0"), c.advertisement("ADV-0002", "b-1.0")}));
    BOOST_TEST(c.current("a").empty());
    BOOST_TEST(c.current("b").empty());
    BOOST_TEST(c.state_of("ADV-0001") == "refused");
    BOOST_TEST(has(c.agent->state().advertisement("ADV-0001")->detail, "dependency cycle: a → b"),
               c.agent->state().advertisement("ADV-0001")->detail);
    // Reported once, not again every cycle.
    const auto messages = [&c] {
        auto count = c.agent->state().db().prepare("SELECT count(*) FROM outbox");
        count.step();
        return count.column_int64(0);
    };
    const auto before = messages();
    c.agent->cycle();
    c.agent->cycle();
    BOOST_TEST(messages() == before);
}

BOOST_AUTO_TEST_CASE(OneRefusedAdvertisementDoesNotBlockTheOutbox) {
    World w;
    w.build("app", "1.0");
    w.agent->cycle();
    w.link->refuse_status_for = "ADV-0007";
    w.agent->state().queue_status({0, "ADV-0007", "installed", std::nullopt, "", kNow});
    w.serve_and_cycle(w.envelope(1, {w.advertisement("ADV-0001", "app-1.0")}));
    BOOST_TEST(w.agent->state().unsent_count() == 0);
    bool sent = false;
    for (const auto& post : w.link->posted) sent |= has(post, "ADV-0001");
    BOOST_TEST(sent);
}

BOOST_AUTO_TEST_CASE(TheCacheEvictsLeastRecentlyUsedButNeverWhatRollbackNeeds) {
    World w;
    w.cache_limit = 1;  // everything that may go, goes
    w.start_agent();
    for (const std::string version : {"1.0", "2.0", "3.0"}) w.build("app", version);
    const auto cached = [&](const std::string& key) {
        return path_exists(w.paths.cache_dir() + "/" + w.packages.at(key).object_id);
    };
    w.serve_and_cycle(w.envelope(1, {w.advertisement("ADV-0001", "app-1.0")}));
    w.serve_and_cycle(w.envelope(2, {w.advertisement("ADV-0002", "app-2.0")}));
    BOOST_TEST(cached("app-1.0"));  // the previous version: rollback needs it
    w.serve_and_cycle(w.envelope(3, {w.advertisement("ADV-0003", "app-3.0")}));
    BOOST_TEST(w.current("app") == "3.0");
    BOOST_TEST(!cached("app-1.0"));  // neither installed nor advertised any more
    BOOST_TEST(cached("app-2.0"));
    BOOST_TEST(cached("app-3.0"));
    BOOST_TEST(w.agent->rollback("app").exit_code == 0);
    BOOST_TEST(w.current("app") == "2.0");
}

BOOST_AUTO_TEST_CASE(AnInstallThatKillsTheAgentEveryTimeIsGivenUpAfterThreeAttempts) {
    World w;
    kill_upgrade_at(w, "installing");
    const auto kill_again = [&w] {
        w.start_agent();
        w.agent->installer().after_step = [](const std::string& reached) {
            if (reached == "installing") throw Killed{};
        };
    };
    for (int attempt = 1; attempt <= 2; ++attempt) {
        kill_again();
        BOOST_CHECK_THROW(w.agent->cycle(), Killed);
    }
    kill_again();
    w.agent->cycle();  // recovers the third interruption, then leaves it alone
    BOOST_TEST(w.state_of("ADV-0002") == "failed");
    BOOST_TEST(w.current("app") == "1.0");
    BOOST_TEST(!w.agent->state().open_journal().has_value());
    // The user can still ask for it.
    w.agent->installer().after_step = nullptr;
    BOOST_TEST(w.agent->install_now("ADV-0002").exit_code == 0);
    BOOST_TEST(w.current("app") == "2.0");
}

BOOST_AUTO_TEST_CASE(ScriptOutputIsCleanedForTheSiteAndTheDaemonSleepsUntilItIsDue) {
    World w;
    w.agent->cycle();
    w.agent->state().queue_status({0, "ADV-0001", "failed", 1,
                                   std::string("red \x1b[31mERROR\x1b[0m\r\nbad \xff byte\n"),
                                   kNow});
    std::vector<std::string> log;
    w.build("app", "1.0");
    auto later = w.advertisement("ADV-0002", "app-1.0");
    later.available_at = kNow + 600;  // not yet: the daemon waits for it, not every second
    w.serve_and_cycle(w.envelope(1, {later}));
    BOOST_TEST(w.agent->next_wakeup(60) == kNow + 60);
    w.now = kNow + 570;
    BOOST_TEST(w.agent->next_wakeup(60) == kNow + 600);
    w.now = kNow + 600;
    w.agent->cycle();
    BOOST_TEST(w.current("app") == "1.0");
    BOOST_TEST(w.agent->next_wakeup(60) == w.now + 60);  // installed: nothing stale remains
    bool cleaned = false;
    for (const auto& post : w.link->posted)
        cleaned |= has(post, "red ?[31mERROR?[0m") && has(post, "bad ? byte");
    BOOST_TEST(cleaned);
}
