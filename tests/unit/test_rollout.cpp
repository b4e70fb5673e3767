// Rollouts on a real site database with a fake clock: placement in waves (deterministic, late
// joiners), advancing on the success threshold, halting on the error threshold and reaching
// policies, sign-off, the release gates per wave and the release's deploying/deployed, and one
// advertisement per package in a policy.
#define BOOST_TEST_MODULE rollout
#include <boost/test/unit_test.hpp>
#include <set>

#include "backout.h"
#include "deployment_site.h"
#include "expect_error.h"
#include "rollout.h"
#include "sqlite_backout_store.h"
#include "sqlite_rollout_store.h"

using namespace ferry;
using namespace ferry::server;
using ferry::test::expect_error;

namespace {

struct Rollouts : test::Site {
    SqliteRolloutStore rollout_store{db};
    RolloutService rollouts{rollout_store, clock};
    std::vector<Client> fleet;
    std::int64_t seq = 0;

    // 20 clients: ws-00 and ws-01 in the pilot collection, all of them in "fleet".
    Rollouts() {
        for (int i = 0; i < 20; ++i)
            fleet.push_back(enrol("ws-" + std::string(i < 10 ? "0" : "") + std::to_string(i),
                                  "Debian", 4096, {}));
        collection("pilots", std::nullopt, {fleet[0].uid, fleet[1].uid}, true);
        collection("fleet", "os.name == \"Debian\"");
    }

    Rollout start(std::vector<std::string> waves, int success = 100, int error = 20,
                  bool sign_off = false) {
        RolloutPlan plan;
        for (const auto& w : waves) plan.waves.push_back(parse_wave(w, "wave"));
        plan.success_threshold = success;
        plan.error_threshold = error;
        plan.sign_off = sign_off;
        return rollouts.create(rita, ads, hello_on("fleet"), plan);
    }

    Rollout tick(std::int64_t id) {
        rollouts.tick();
        return rollouts.show(vera, id);
    }

    void report(const Client& client, const Rollout& rollout, const std::string& state,
                std::optional<std::int64_t> exit_code = std::nullopt) {
        StatusMessage m;
        m.seq = ++seq;
        m.advertisement_id = rollout.advertisement_id;
        m.state = state;
        m.exit_code = exit_code;
        m.log_tail = state == "failed" ? "check failed" : "";
        m.at = now;
        ads.report_status(client, {m});
    }

    // The clients of a wave (1-based, as shown).
    std::vector<Client> in_wave(const Rollout& rollout, int wave) {
        std::vector<Client> out;
        for (const auto& client : fleet) {
            auto row = db.prepare(
                "SELECT wave FROM rollout_client WHERE rollout_id = ? AND client_id = ?");
            row.bind(1, rollout.id).bind(2, client.id);
            if (row.step() && row.column_int64(0) == wave - 1) out.push_back(client);
        }
        return out;
    }

    bool advertised_to(const Client& client, const Rollout& rollout,
                       const std::string& state = "active") {
        while (builder.build_dirty(now).examined > 0) {
        }
        const auto policy = Policy::parse(policy_of(client).json, "policy");
        for (const auto& ad : policy.advertisements)
            if (ad.id == advertisement_number(rollout.advertisement_id))
                return ad.rollout_state == state;
        return false;
    }

    std::string release_state() { return releases.list(vera).front().state; }
};

}  // namespace

BOOST_AUTO_TEST_CASE(WavesParseAndBucketsAreStableAndEven) {
    BOOST_TEST(parse_wave("25%", "w").percent == 25);
    BOOST_TEST(parse_wave("pilots", "w").collection == "pilots");
    expect_error([] { parse_wave("0%", "field \"waves\"[1]"); }, ErrorCode::InvalidInput,
                 "a percentage is 1% to 100%");
    expect_error([] { parse_wave("x%", "field \"waves\"[2]"); }, ErrorCode::InvalidInput,
                 "field \"waves\"[2]: \"x%\" is not a percentage");
    int under_quarter = 0;
    for (int i = 0; i < 10000; ++i) {
        const std::string uid = "cl_" + std::to_string(i);
        const int bucket = rollout_bucket(7, uid);
        BOOST_TEST_REQUIRE((bucket >= 0 && bucket < 10000));
        BOOST_TEST(bucket == rollout_bucket(7, uid));  // stable
        if (bucket < 2500) ++under_quarter;
    }
    BOOST_TEST(under_quarter > 2300);  // 25% of 10,000, give or take sampling noise
    BOOST_TEST(under_quarter < 2700);
}

BOOST_AUTO_TEST_CASE(TheNextStepFollowsTheThresholds) {
    Rollout r;
    r.id = 1;
    r.release = "REL-2026-0001";
    r.success_threshold = 90;
    r.error_threshold = 10;
    r.waves.resize(2);
    r.waves[0].plan.pilot = true;
    r.waves[1].plan.pilot = false;
    BOOST_TEST(next_step(r, "testing").kind == RolloutStep::StartWave);
    r.current_wave = 0;
    r.waves[0].progress = {10, 8, 1, 1};
    BOOST_TEST(next_step(r, "testing").kind == RolloutStep::Nothing);  // 80% < 90%
    r.waves[0].progress = {10, 9, 1, 0};
    BOOST_TEST(next_step(r, "testing").kind == RolloutStep::CompleteWave);
    r.waves[0].completed_at = 5;
    const auto waits = next_step(r, "testing");
    BOOST_TEST(waits.kind == RolloutStep::Nothing);
    BOOST_TEST(waits.why.find("production wave needs it ready") != std::string::npos, waits.why);
    BOOST_TEST(next_step(r, "ready").kind == RolloutStep::StartWave);
    r.sign_off = true;
    BOOST_TEST(next_step(r, "ready").why.find("waits for a sign-off") != std::string::npos);
    r.waves[0].progress = {10, 8, 2, 0};  // 20% failed > 10%
    const auto halt = next_step(r, "ready");
    BOOST_TEST(halt.kind == RolloutStep::Halt);
    BOOST_TEST(halt.why ==
               "wave 1: 2 of 10 clients failed (20%), above the error threshold of 10%");
    r.waves[0].failed_accepted = 2;  // accepted by a resume
    BOOST_TEST(next_step(r, "ready").kind != RolloutStep::Halt);
    r.state = "halted";
    BOOST_TEST(next_step(r, "ready").kind == RolloutStep::Nothing);
}

BOOST_FIXTURE_TEST_CASE(WavesAdvanceOnSuccessAndTheReleaseFollows, Rollouts) {
    release_to("testing");
    const Rollout created = start({"pilots", "50%"});
    BOOST_TEST(created.waves.size() == 3u);  // the 100% wave is added
    BOOST_TEST(created.current_wave == 0);   // placed and started before the answer
    BOOST_TEST(created.waves[0].progress.members == 2);
    Rollout r = tick(created.id);
    BOOST_TEST(r.current_wave == 0);
    BOOST_TEST(r.waves[0].progress.members == 2);
    BOOST_TEST(in_wave(r, 1).size() == 2u);
    BOOST_TEST(advertised_to(fleet[0], r));
    BOOST_TEST(!advertised_to(fleet[5], r));  // its wave has not started

    for (const auto& client : in_wave(r, 1)) report(client, r, "installed");
    r = tick(r.id);
    BOOST_TEST(r.waves[0].completed_at.has_value());
    BOOST_TEST(r.current_wave == 0);  // the release is testing: production waits
    BOOST_TEST(r.reason.find("REL-") != std::string::npos, r.reason);
    BOOST_TEST(release_state() == "testing");

    release_to("ready");
    r = tick(r.id);
    BOOST_TEST(r.current_wave == 1);
    BOOST_TEST(release_state() == "deploying");
    const auto second = in_wave(r, 2);
    const auto third = in_wave(r, 3);
    BOOST_TEST(second.size() + third.size() == 18u);
    BOOST_TEST(second.size() > 3u);  // about half of the 18
    for (const auto& client : second) BOOST_TEST(advertised_to(client, r));
    for (const auto& client : third) BOOST_TEST(!advertised_to(client, r));

    for (const auto& client : second) report(client, r, "installed");
    r = tick(r.id);
    BOOST_TEST(r.current_wave == 2);
    for (const auto& client : third) report(client, r, "installed");
    r = tick(r.id);
    BOOST_TEST(r.state == "completed");
    BOOST_TEST(release_state() == "deployed");
    auto logged = db.prepare("SELECT count(*) FROM changelog WHERE action = 'rollout.wave'");
    logged.step();
    BOOST_TEST(logged.column_int64(0) == 6);  // three started, three complete
}

BOOST_FIXTURE_TEST_CASE(FailuresPastTheThresholdHaltEverywhereAndResumeAcceptsThem, Rollouts) {
    release_to("ready");
    Rollout r = tick(start({"pilots", "50%"}, 100, 25).id);
    report(fleet[0], r, "installed");
    report(fleet[1], r, "rolled-back", 3);  // the health check failed: a failure
    r = tick(r.id);
    BOOST_TEST(r.state == "halted");
    BOOST_TEST(r.reason == "wave 1: 1 of 2 clients failed (50%), above the error threshold of 25%");
    BOOST_TEST(advertised_to(fleet[0], r, "halted"));  // the halt is in the policy
    BOOST_TEST(ads.show(vera, r.advertisement_id).state == "halted");
    expect_error([&] { rollouts.advance(rita, r.id, ""); }, ErrorCode::Conflict,
                 "only an active rollout advances (resume it first)");
    expect_error([&] { rollouts.resume(vera, r.id, ""); }, ErrorCode::Forbidden, "");
    expect_error([&] { ads.change_state(rita, r.advertisement_id, "active", ""); },
                 ErrorCode::Conflict, "halt, resume or cancel the rollout");

    r = rollouts.resume(rita, r.id, "fixed the check");
    BOOST_TEST(r.state == "active");
    BOOST_TEST(r.waves[0].failed_accepted == 1);
    r = tick(r.id);
    BOOST_TEST(r.state == "active");  // the accepted failure does not halt it again
    BOOST_TEST(advertised_to(fleet[0], r, "active"));
    report(fleet[1], r, "installed");
    r = tick(r.id);
    BOOST_TEST(r.current_wave == 1);
    // A new failure in wave 2 past 25% of it halts again.
    const auto second = in_wave(r, 2);
    for (std::size_t i = 0; i < second.size(); ++i)
        report(second[i], r, i * 2 < second.size() ? "failed" : "installed", 1);
    r = tick(r.id);
    BOOST_TEST(r.state == "halted");
    BOOST_TEST(r.reason.rfind("wave 2: ", 0) == 0, r.reason);
    r = rollouts.cancel(rita, r.id, "superseded");
    BOOST_TEST(r.state == "cancelled");
    BOOST_TEST(!advertised_to(fleet[0], r, "active"));
    BOOST_TEST(!advertised_to(fleet[0], r, "halted"));
}

BOOST_FIXTURE_TEST_CASE(SignOffWaitsAndAdvanceStartsTheNextWave, Rollouts) {
    release_to("ready");
    Rollout r = tick(start({"pilots"}, 50, 50, true).id);
    report(fleet[0], r, "installed");
    r = tick(r.id);
    BOOST_TEST(r.waves[0].completed_at.has_value());
    BOOST_TEST(r.current_wave == 0);
    BOOST_TEST(r.reason.find("waits for a sign-off") != std::string::npos, r.reason);
    r = rollouts.advance(rita, r.id, "pilot looks good");
    BOOST_TEST(r.current_wave == 1);
    BOOST_TEST(advertised_to(fleet[7], r));
    expect_error([&] { rollouts.advance(rita, r.id, ""); }, ErrorCode::Conflict,
                 "is at its last wave");
    expect_error([&] { rollouts.halt(vera, r.id, ""); }, ErrorCode::Forbidden, "");
}

BOOST_FIXTURE_TEST_CASE(ClientsThatJoinLaterArePlacedAndServed, Rollouts) {
    release_to("ready");
    Rollout r = tick(start({"pilots", "50%"}, 50).id);
    for (const auto& client : in_wave(r, 1)) report(client, r, "installed");
    r = tick(r.id);
    for (const auto& client : in_wave(r, 2)) report(client, r, "installed");
    r = tick(r.id);
    BOOST_TEST(r.current_wave == 2);
    // Ten newcomers: each placed in a wave by its bucket; every wave has started, so all get it.
    std::set<int> waves;
    for (int i = 0; i < 10; ++i) {
        const Client late = enrol("late-" + std::to_string(i), "Debian", 4096, {});
        fleet.push_back(late);
        r = tick(r.id);
        BOOST_TEST(advertised_to(late, r));
        auto row =
            db.prepare("SELECT wave FROM rollout_client WHERE rollout_id = ? AND client_id = ?");
        row.bind(1, r.id).bind(2, late.id);
        BOOST_TEST_REQUIRE(row.step());
        waves.insert(static_cast<int>(row.column_int64(0)));
        BOOST_TEST(row.column_int64(0) != 0);  // not a pilot
    }
    std::int64_t members = 0;
    for (const auto& wave : r.waves) members += wave.progress.members;
    BOOST_TEST(members == 30);
    BOOST_TEST(waves.size() > 1u);  // spread over the waves, not all in one
}

BOOST_FIXTURE_TEST_CASE(OneAdvertisementPerPackageByPriorityThenAge, Rollouts) {
    release_to("ready");
    const std::string medium = releases.list(vera).front().reference;
    // A second, critical release carrying the same version.
    SqliteRfcStore rfc_store(db);
    RfcService rfcs(rfc_store, clock);
    const auto rfc = rfcs.submit(rita, {"urgent", "", "", "low", std::nullopt}).id;
    rfcs.approve(Principal{"carl", Role::Cab}, rfc, "");
    const std::string critical =
        releases.create(rita, {"urgent", "", "critical", {rfc}, {{"hello", "1.0"}}}).reference;
    for (const char* state : {"building", "testing"})
        releases.transition(rita, critical, state, "");
    for (const auto& item : readiness_checklist())
        releases.review(Principal{"s", item.signer}, critical, item.number, "go", "");
    releases.transition(rita, critical, "ready", "");

    auto on = [&](const std::string& collection, const std::string& release) {
        NewAdvertisement request = hello_on(collection);
        request.release = release;
        return ads.create(rita, request);
    };
    const auto first = on("fleet", medium);
    const auto second = on("pilots", medium);
    auto ids = [&](const Client& client) {
        while (builder.build_dirty(now).examined > 0) {
        }
        std::vector<std::string> out;
        for (const auto& ad : Policy::parse(policy_of(client).json, "p").advertisements)
            out.push_back(ad.id);
        return out;
    };
    BOOST_TEST(ids(fleet[0]) == std::vector<std::string>{advertisement_number(second.id)});
    BOOST_TEST(ids(fleet[9]) == std::vector<std::string>{advertisement_number(first.id)});
    const auto urgent = on("fleet", critical);
    const auto newest = on("pilots", medium);
    // The critical release wins over the newer medium one.
    BOOST_TEST(ids(fleet[0]) == std::vector<std::string>{advertisement_number(urgent.id)});
    BOOST_TEST(newest.id > urgent.id);
}

BOOST_FIXTURE_TEST_CASE(ABackoutReturnsEveryClientToItsPreviousVersionInWaves, Rollouts) {
    // hello 1.0 everywhere but on ws-19 (release one), then hello 1.1 in waves (release two).
    release_to("ready");
    collection("most", "os.name == \"Debian\" and hostname != \"ws-19\"");
    const auto old_ad = ads.create(rita, hello_on("most"));
    for (int i = 0; i < 19; ++i) {
        Rollout fake;
        fake.advertisement_id = old_ad.id;
        report(fleet[static_cast<std::size_t>(i)], fake, "installed");
    }
    db.prepare(
          "INSERT INTO package_version (name, version, object_id, size, signature, publisher_id, "
          "manifest, registered_by, registered_at) SELECT 'hello', '1.1', ?, 10, signature, 1, "
          "'{}', 'p', 1 FROM package_version WHERE version = '1.0'")
        .bind(1, std::string(64, 'b'))
        .run();
    SqliteRfcStore rfc_store(db);
    RfcService rfcs(rfc_store, clock);
    const auto rfc = rfcs.submit(rita, {"fix", "", "", "low", std::nullopt}).id;
    rfcs.approve(Principal{"carl", Role::Cab}, rfc, "");
    const std::string second =
        releases.create(rita, {"fix", "", "high", {rfc}, {{"hello", "1.1"}}}).reference;
    for (const char* state : {"building", "testing"}) releases.transition(rita, second, state, "");
    for (const auto& item : readiness_checklist())
        releases.review(Principal{"s", item.signer}, second, item.number, "go", "");
    releases.transition(rita, second, "ready", "");
    RolloutPlan plan;
    plan.waves = {parse_wave("pilots", "w"), parse_wave("50%", "w")};
    plan.success_threshold = 50;
    NewAdvertisement request = hello_on("fleet");
    request.version = "1.1";
    Rollout r = tick(rollouts.create(rita, ads, request, plan).id);
    for (int wave = 1; wave <= 3; ++wave) {
        for (const auto& client : in_wave(r, wave)) report(client, r, "installed");
        r = tick(r.id);
    }
    BOOST_TEST(r.state == "completed");
    BOOST_TEST(releases.show(vera, second).state == "deployed");

    SqliteBackoutStore backout_store(db);
    BackoutService backouts(backout_store, rollout_store, clock);
    expect_error([&] { backouts.backout(vera, second, "the new version crashes", std::nullopt); },
                 ErrorCode::Forbidden, "");
    expect_error([&] { backouts.backout(rita, second, "bad", std::nullopt); },
                 ErrorCode::InvalidInput, "field \"reason\"");

    const auto result = backouts.backout(rita, second, "1.1 corrupts the settings", std::nullopt);
    BOOST_TEST(result.clients == 20);
    BOOST_TEST_REQUIRE(result.rollouts.size() == 2u);  // back to 1.0 (19), uninstall (ws-19)
    BOOST_TEST(releases.show(vera, second).state == "backed-out");
    BOOST_TEST(ads.show(vera, r.advertisement_id).state == "cancelled");
    Rollout back = rollouts.show(vera, result.rollouts[0]);
    Rollout remove = rollouts.show(vera, result.rollouts[1]);
    if (back.action == "uninstall") std::swap(back, remove);
    expect_error([&] { backouts.backout(rita, second, "once more, to be sure", std::nullopt); },
                 ErrorCode::Conflict,
                 second + " is backed-out; only a deploying or deployed release can be backed out");
    BOOST_TEST(back.backout);
    BOOST_TEST(back.version == "1.0");
    BOOST_TEST(back.action == "install");
    BOOST_TEST(remove.action == "uninstall");
    BOOST_TEST(remove.version == "1.1");
    BOOST_TEST(back.waves.size() == 3u);  // the original's waves: pilots, 50%, 100%
    BOOST_TEST(back.waves[0].plan.collection == "pilots");
    BOOST_TEST(back.success_threshold == 50);
    BOOST_TEST(collections.members(vera, remove.collection, 10) ==
               std::vector<std::string>{fleet[19].uid});

    // In waves like the original, the release gates aside (it is backed out).
    Rollout b = tick(back.id);
    BOOST_TEST(b.current_wave == 0);
    BOOST_TEST(advertised_to(fleet[0], b));  // a pilot: back to 1.0 first
    BOOST_TEST_REQUIRE(!in_wave(b, 2).empty());
    BOOST_TEST(!advertised_to(in_wave(b, 2).front(), b));  // its wave has not started
    for (int wave = 1; wave <= 3; ++wave) {
        for (const auto& client : in_wave(b, wave)) report(client, b, "installed");
        b = tick(b.id);
    }
    BOOST_TEST(b.state == "completed");
    BOOST_TEST(releases.show(vera, second).state == "backed-out");  // it stays backed out
    const Rollout u = tick(remove.id);
    BOOST_TEST(advertised_to(fleet[19], u));
    auto logged = db.prepare(
        "SELECT after FROM changelog WHERE action = 'release.transition' AND subject = ? ORDER BY "
        "id DESC LIMIT 1");
    logged.bind(1, second);
    BOOST_TEST_REQUIRE(logged.step());
    BOOST_TEST(logged.column_text(0) == "backed-out: 1.1 corrupts the settings");
}

BOOST_FIXTURE_TEST_CASE(SuspendingTheReleaseHaltsItsRolloutsUntilItIsBack, Rollouts) {
    release_to("ready");
    Rollout r = tick(start({"pilots"}).id);
    const std::string ref = releases.list(vera).front().reference;
    const std::string before = releases.show(vera, ref).state;
    releases.transition(rita, ref, "suspended", "an emergency change first");
    r = tick(r.id);
    BOOST_TEST(r.state == "halted");
    BOOST_TEST(r.reason == ref + " is suspended");
    BOOST_TEST(advertised_to(fleet[0], r, "halted"));
    expect_error([&] { rollouts.resume(rita, r.id, ""); }, ErrorCode::Conflict,
                 "cannot resume: " + ref + " is suspended");
    releases.transition(rita, ref, before, "");
    r = rollouts.resume(rita, r.id, "the emergency is over");
    BOOST_TEST(r.state == "active");
    BOOST_TEST(advertised_to(fleet[0], r, "active"));
}

BOOST_FIXTURE_TEST_CASE(CancellingTheLastUnfinishedRolloutEndsTheDeployment, Rollouts) {
    release_to("ready");
    const Rollout first = start({"50%"});
    const Rollout second = start({"50%"});
    const Rollout third = start({"50%"});
    Rollout r = tick(first.id);
    for (int wave = 1; wave <= 2; ++wave) {
        for (const auto& client : in_wave(r, wave)) report(client, r, "installed");
        r = tick(r.id);
    }
    BOOST_TEST(r.state == "completed");
    BOOST_TEST(release_state() == "deploying");  // two rollouts are unfinished

    // Another one is left: cancelling this one changes nothing for the release.
    rollouts.cancel(rita, second.id, "not needed");
    BOOST_TEST(release_state() == "deploying");
    // The last one: what the release deploys is deployed.
    rollouts.cancel(rita, third.id, "not needed either");
    BOOST_TEST(release_state() == "deployed");
    auto logged = db.prepare(
        "SELECT actor, after FROM changelog WHERE action = 'release.transition' ORDER BY id DESC");
    BOOST_REQUIRE(logged.step());
    BOOST_TEST(logged.column_text(0) == "rita");
    BOOST_TEST(logged.column_text(1) ==
               "deployed: " + rollout_number(third.id) +
                   " cancelled, the release's other rollouts are complete");
}

BOOST_FIXTURE_TEST_CASE(CancellingEveryRolloutLeavesTheReleaseDeploying, Rollouts) {
    release_to("ready");
    const Rollout only = start({"50%"});
    tick(only.id);
    BOOST_TEST(release_state() == "deploying");
    rollouts.cancel(rita, only.id, "wrong package");
    // Nothing was deployed: the release manager decides (suspend, cancel, back out).
    BOOST_TEST(release_state() == "deploying");
}
