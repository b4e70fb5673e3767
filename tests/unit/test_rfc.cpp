#define BOOST_TEST_MODULE rfc
#include <boost/test/unit_test.hpp>

#include "expect_error.h"
#include "ferry/sqlite.h"
#include "rfc.h"
#include "site_schema.h"
#include "sqlite_rfc_store.h"
#include "temp_dir.h"

using namespace ferry;
using namespace ferry::server;
using ferry::test::expect_error;

namespace {

struct Board {
    test::TempDir dir;
    sql::Database db{dir / "site.db"};
    SqliteRfcStore store{db};
    RfcService rfcs{store, [] { return std::int64_t{1'800'000'000}; }};
    Principal rita{"rita", Role::ReleaseManager};
    Principal carl{"carl", Role::Cab};
    Principal cleo{"cleo", Role::Cab};
    Board() { db.migrate(site_migrations()); }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(HighRiskNeedsTwoApprovalsAndEachIsLogged, Board) {
    const Rfc rfc = rfcs.submit(
        rita, {"Roll out hello 1.1", "new greeting", "users asked", "high", std::nullopt});
    BOOST_TEST(rfc_number(rfc.id) == "RFC-0001");
    BOOST_TEST(rfc.needed == 2);
    BOOST_TEST(rfcs.approve(carl, rfc.id, "").state == "submitted");
    BOOST_TEST(rfcs.approve(cleo, rfc.id, "looks fine").state == "approved");
    sql::Statement log = db.prepare("SELECT action, before, after FROM changelog ORDER BY id");
    std::vector<std::string> actions;
    while (log.step())
        actions.push_back(log.column_text(0) + ":" + log.column_text(1) + ">" + log.column_text(2));
    BOOST_REQUIRE(actions.size() == 3u);
    BOOST_TEST(actions[1] == "rfc.approve:submitted>submitted (1/2)");
    BOOST_TEST(actions[2] == "rfc.approve:submitted>approved (2/2): looks fine");
}

BOOST_FIXTURE_TEST_CASE(OnlyCabMembersVoteOnceAndOnlyFilersFile, Board) {
    const Rfc rfc =
        rfcs.submit(Principal{"paul", Role::Packager}, {"Package openssl", "", "", "medium", 2});
    expect_error([&] { rfcs.approve(rita, rfc.id, ""); }, ErrorCode::Forbidden,
                 "role release-manager may not approve");
    expect_error(
        [&] {
            rfcs.approve(Principal{"root", Role::Admin}, rfc.id, "");
        },
        ErrorCode::Forbidden, "role admin may not approve");
    rfcs.approve(carl, rfc.id, "");
    expect_error([&] { rfcs.approve(carl, rfc.id, ""); }, ErrorCode::AlreadyExists,
                 "carl has already voted on RFC-0001");
    expect_error(
        [&] {
            rfcs.submit(carl, {"x", "", "", "low", std::nullopt});
        },
        ErrorCode::Forbidden, "may not file");
}

BOOST_FIXTURE_TEST_CASE(RequesterCannotApproveTheirOwnRfc, Board) {
    // A person who filed under another role keeps their name: the name decides, not the role.
    const Rfc rfc = rfcs.submit(Principal{"carl", Role::ReleaseManager},
                                {"Carl's change", "", "", "low", std::nullopt});
    expect_error([&] { rfcs.approve(carl, rfc.id, ""); }, ErrorCode::Forbidden,
                 "carl requested RFC-0001 and may not vote on it");
}

BOOST_FIXTURE_TEST_CASE(OneRejectionDecidesAndDecidedRfcsTakeNoVotes, Board) {
    const Rfc rfc = rfcs.submit(rita, {"Risky", "", "", "high", std::nullopt});
    expect_error([&] { rfcs.reject(carl, rfc.id, ""); }, ErrorCode::InvalidInput,
                 "a rejection needs a reason");
    BOOST_TEST(rfcs.reject(carl, rfc.id, "no backout plan").state == "rejected");
    expect_error([&] { rfcs.approve(cleo, rfc.id, ""); }, ErrorCode::Conflict,
                 "RFC-0001 is rejected; only a submitted RFC takes votes");
    expect_error([&] { rfcs.show(rita, 99); }, ErrorCode::NotFound, "no RFC-0099");
}

BOOST_FIXTURE_TEST_CASE(BadFieldsAreNamed, Board) {
    expect_error(
        [&] {
            rfcs.submit(rita, {"", "", "", "low", std::nullopt});
        },
        ErrorCode::InvalidInput, "field \"title\"");
    expect_error(
        [&] {
            rfcs.submit(rita, {"t", "", "", "severe", std::nullopt});
        },
        ErrorCode::InvalidInput, "field \"risk\"");
    expect_error(
        [&] {
            rfcs.submit(rita, {"t", "", "", "low", 0});
        },
        ErrorCode::InvalidInput, "field \"need\"");
    BOOST_TEST(parse_rfc_number("RFC-0042").value() == 42);
    BOOST_TEST(!parse_rfc_number("RFC-x").has_value());
    BOOST_TEST(!parse_rfc_number("42").has_value());
}
