#define BOOST_TEST_MODULE release
#include <boost/test/unit_test.hpp>

#include "expect_error.h"
#include "ferry/sqlite.h"
#include "release.h"
#include "rfc.h"
#include "site_schema.h"
#include "sqlite_release_store.h"
#include "sqlite_rfc_store.h"
#include "temp_dir.h"

using namespace ferry;
using namespace ferry::server;
using ferry::test::expect_error;

namespace {

constexpr std::int64_t k2026 = 1'790'000'000;  // 2026-09-20

struct Site {
    test::TempDir dir;
    sql::Database db{dir / "site.db"};
    std::int64_t now = k2026;
    SqliteRfcStore rfc_store{db};
    RfcService rfcs{rfc_store, [this] { return now; }};
    SqliteReleaseStore store{db};
    ReleaseService releases{store, [this] { return now; }};
    Principal rita{"rita", Role::ReleaseManager};
    Principal carl{"carl", Role::Cab};
    Principal root{"root", Role::Admin};
    Principal paul{"paul", Role::Packager};
    std::int64_t approved_rfc = 0;

    Site() {
        db.migrate(site_migrations());
        db.exec(
            "INSERT INTO publisher (name, public_key, packages, created_at) VALUES ('acme', 'k', "
            "'[\"*\"]', 1);"
            "INSERT INTO package_version (name, version, object_id, size, signature, "
            "publisher_id, manifest, registered_by, registered_at) VALUES "
            "('hello', '1.0', 'a', 1, 's', 1, '{}', 'paul', 1),"
            "('hello', '1.1', 'b', 1, 's', 1, '{}', 'paul', 1),"
            "('old', '0.9', 'c', 1, 's', 1, '{}', 'paul', 1);"
            "UPDATE package_version SET retired_at = 2 WHERE name = 'old';");
        approved_rfc = rfcs.submit(rita, {"Roll out hello", "", "", "low", std::nullopt}).id;
        rfcs.approve(carl, approved_rfc, "");
    }

    Release hello_release() {
        return releases.create(rita, {"hello 1.0", "", "high", {approved_rfc}, {{"hello", "1.0"}}});
    }

    void sign_all_go(const std::string& reference) {
        for (const auto& item : readiness_checklist()) {
            const Principal& signer = item.signer == Role::Cab     ? carl
                                      : item.signer == Role::Admin ? root
                                                                   : rita;
            releases.review(signer, reference, item.number, "go", "");
        }
    }

    std::vector<std::string> log_of(const std::string& action) {
        sql::Statement rows =
            db.prepare("SELECT subject, before, after FROM changelog WHERE action = ? ORDER BY id");
        rows.bind(1, action);
        std::vector<std::string> out;
        while (rows.step())
            out.push_back(rows.column_text(0) + "|" + rows.column_text(1) + ">" +
                          rows.column_text(2));
        return out;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(ReleaseWalksFromPlanningToClosedAndImplementsItsRfcs, Site) {
    Release r = hello_release();
    BOOST_TEST(r.reference == "REL-2026-0001");
    BOOST_TEST(r.state == "planning");
    BOOST_TEST(releases.transition(rita, r.reference, "building", "").state == "building");
    BOOST_TEST(releases.transition(rita, r.reference, "testing", "").state == "testing");
    sign_all_go(r.reference);
    BOOST_TEST(ReleaseService::items_missing(releases.show(paul, r.reference)).empty());
    BOOST_TEST(releases.transition(root, r.reference, "ready", "go").state == "ready");
    BOOST_TEST(releases.transition(rita, r.reference, "deploying", "").state == "deploying");
    BOOST_TEST(releases.transition(rita, r.reference, "deployed", "").state == "deployed");
    r = releases.transition(rita, r.reference, "closed", "all 40 clients installed, no failures");
    BOOST_TEST(r.state == "closed");
    BOOST_TEST(r.closing_review == "all 40 clients installed, no failures");
    BOOST_TEST(rfcs.show(paul, approved_rfc).state == "implemented");
    BOOST_TEST(rfcs.show(paul, approved_rfc).releases == std::vector<std::string>{"REL-2026-0001"});
    const auto moves = log_of("release.transition");
    BOOST_REQUIRE(moves.size() == 6u);
    BOOST_TEST(moves[0] == "REL-2026-0001|planning>building");
    BOOST_TEST(moves[2] == "REL-2026-0001|testing>ready: go");
    BOOST_TEST(log_of("release.review").size() == readiness_checklist().size());
    expect_error([&] { releases.transition(rita, r.reference, "deploying", ""); },
                 ErrorCode::Conflict, "REL-2026-0001 is closed; deploying needs: it is final");
}

BOOST_FIXTURE_TEST_CASE(CreationNeedsApprovedRfcsLivePackagesAndTheRightRole, Site) {
    const auto pending = rfcs.submit(rita, {"Another", "", "", "low", std::nullopt}).id;
    expect_error(
        [&] {
            releases.create(rita, {"x", "", "low", {pending}, {{"hello", "1.0"}}});
        },
        ErrorCode::Conflict, "RFC-0002 is submitted; a release carries approved RFCs");
    expect_error(
        [&] {
            releases.create(rita, {"x", "", "low", {99}, {{"hello", "1.0"}}});
        },
        ErrorCode::NotFound, "no RFC-0099");
    expect_error(
        [&] {
            releases.create(rita, {"x", "", "low", {approved_rfc}, {{"hello", "9"}}});
        },
        ErrorCode::NotFound, "no package hello@9 in the DSL");
    expect_error(
        [&] {
            releases.create(rita, {"x", "", "low", {approved_rfc}, {{"old", "0.9"}}});
        },
        ErrorCode::Conflict, "old@0.9 is retired");
    expect_error(
        [&] {
            releases.create(paul, {"x", "", "low", {approved_rfc}, {{"hello", "1.0"}}});
        },
        ErrorCode::Forbidden, "role packager may not create releases");
    expect_error(
        [&] {
            releases.create(rita, {"x", "", "urgent", {approved_rfc}, {{"hello", "1.0"}}});
        },
        ErrorCode::InvalidInput, "field \"priority\"");
    expect_error(
        [&] {
            releases.create(rita, {"x", "", "low", {}, {{"hello", "1.0"}}});
        },
        ErrorCode::InvalidInput, "field \"rfcs\"");
    BOOST_TEST(releases.list(paul).empty());
}

BOOST_FIXTURE_TEST_CASE(ReadyNeedsEveryReadinessItemSignedGo, Site) {
    const auto r = hello_release();
    releases.transition(rita, r.reference, "building", "");
    expect_error([&] { releases.review(rita, r.reference, 1, "go", ""); }, ErrorCode::Conflict,
                 "REL-2026-0001 is building; the readiness review happens while testing");
    releases.transition(rita, r.reference, "testing", "");
    releases.review(rita, r.reference, 1, "go", "");
    releases.review(carl, r.reference, 6, "go", "");
    expect_error([&] { releases.transition(rita, r.reference, "ready", ""); }, ErrorCode::Conflict,
                 "REL-2026-0001 is testing; ready needs: a go on readiness item(s) 2, 3, 4, 5, "
                 "7, 8, 9, 10, 11 (review round 1)");
    expect_error([&] { releases.review(rita, r.reference, 6, "go", ""); }, ErrorCode::Forbidden,
                 "readiness item 6 is signed by the cab role, not release-manager");
    expect_error([&] { releases.review(root, r.reference, 12, "go", ""); }, ErrorCode::InvalidInput,
                 "numbered 1 to 11");
    expect_error([&] { releases.review(root, r.reference, 7, "no-go", ""); },
                 ErrorCode::InvalidInput, "field \"note\": required");
}

BOOST_FIXTURE_TEST_CASE(NoGoSendsTheReleaseBackAndStartsANewRound, Site) {
    const auto r = hello_release();
    releases.transition(rita, r.reference, "building", "");
    releases.transition(rita, r.reference, "testing", "");
    sign_all_go(r.reference);
    const auto back = releases.review(root, r.reference, 10, "no-go", "lab still on 1.0 images");
    BOOST_TEST(back.state == "building");
    BOOST_TEST(back.review_round == 2);
    const auto stored = releases.show(paul, r.reference);
    BOOST_TEST(stored.state == "building");
    BOOST_TEST(stored.signoffs.empty());
    BOOST_TEST(log_of("release.transition").back() ==
               "REL-2026-0001|testing>building: no-go on readiness item 10");
    // A fixed version joins while building; the next review needs every item again.
    releases.add_package(rita, r.reference, {"hello", "1.1"});
    releases.transition(rita, r.reference, "testing", "");
    expect_error([&] { releases.transition(rita, r.reference, "ready", ""); }, ErrorCode::Conflict,
                 "(review round 2)");
    sign_all_go(r.reference);
    const auto ready = releases.transition(rita, r.reference, "ready", "");
    BOOST_TEST(ready.packages.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(SuspendResumeCancelAndBackoutFollowTheStateMachine, Site) {
    const auto r = hello_release();
    expect_error([&] { releases.transition(rita, r.reference, "ready", ""); }, ErrorCode::Conflict,
                 "REL-2026-0001 is planning; ready needs: the next state is "
                 "building");
    expect_error([&] { releases.transition(rita, r.reference, "suspended", "x"); },
                 ErrorCode::Conflict, "only a building, testing, ready or deploying release");
    releases.transition(rita, r.reference, "building", "");
    expect_error([&] { releases.transition(rita, r.reference, "suspended", ""); },
                 ErrorCode::InvalidInput, "field \"reason\": required");
    const auto suspended =
        releases.transition(rita, r.reference, "suspended", "emergency change first");
    BOOST_TEST(suspended.suspended_from == "building");
    expect_error([&] { releases.transition(rita, r.reference, "testing", ""); },
                 ErrorCode::Conflict, "a suspended release resumes to building");
    BOOST_TEST(releases.transition(rita, r.reference, "building", "").state == "building");
    releases.transition(rita, r.reference, "testing", "");
    sign_all_go(r.reference);
    releases.transition(rita, r.reference, "ready", "");
    releases.transition(rita, r.reference, "deploying", "");
    expect_error([&] { releases.transition(rita, r.reference, "cancelled", "too late"); },
                 ErrorCode::Conflict, "backed out, not cancelled");
    expect_error([&] { releases.transition(rita, r.reference, "closed", "x"); },
                 ErrorCode::Conflict, "closed needs: the next state is deployed");
    // Backing out returns clients to their previous versions: its own command (unit_rollout).
    expect_error([&] { releases.transition(rita, r.reference, "backed-out", "pilot crashed"); },
                 ErrorCode::Conflict, "ferryctl release backout");
    expect_error([&] { releases.transition(paul, r.reference, "closed", "x"); },
                 ErrorCode::Forbidden, "role packager may not move releases");
}

BOOST_FIXTURE_TEST_CASE(ClosingNeedsAPostDeploymentReview, Site) {
    const auto r = hello_release();
    for (const char* state : {"building", "testing"})
        releases.transition(rita, r.reference, state, "");
    sign_all_go(r.reference);
    for (const char* state : {"ready", "deploying", "deployed"})
        releases.transition(rita, r.reference, state, "");
    expect_error([&] { releases.transition(rita, r.reference, "closed", "ok"); },
                 ErrorCode::InvalidInput, "needs the post-deployment review");
}

BOOST_FIXTURE_TEST_CASE(ReferencesCountPerYear, Site) {
    BOOST_TEST(hello_release().reference == "REL-2026-0001");
    BOOST_TEST(hello_release().reference == "REL-2026-0002");
    now += 200 * 86400;  // into 2027
    BOOST_TEST(hello_release().reference == "REL-2027-0001");
    BOOST_TEST(releases.list(paul).size() == 3u);
    expect_error([&] { releases.show(paul, "REL-2027-0009"); }, ErrorCode::NotFound,
                 "no release REL-2027-0009");
}
