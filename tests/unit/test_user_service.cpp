#define BOOST_TEST_MODULE user_service
#include <boost/test/unit_test.hpp>

#include "expect_error.h"
#include "ferry/sqlite.h"
#include "site_schema.h"
#include "sqlite_user_store.h"
#include "temp_dir.h"
#include "user_service.h"

using namespace ferry;
using namespace ferry::server;
using ferry::test::expect_error;

namespace {

struct Site {
    test::TempDir dir;
    sql::Database db{dir / "site.db"};
    SqliteUserStore store{db};
    std::int64_t now = 1'800'000'000;
    UserService users{store, [this] { return now; }};
    Principal admin{"admin", Role::Admin};

    Site() {
        db.migrate(site_migrations());
        store.create(User{"admin", Role::Admin, now, std::nullopt}, "digest-of-bootstrap",
                     ChangeLogEntry{now, "init", "site.init", "", "", ""});
    }
    std::int64_t changelog_rows() {
        sql::Statement s = db.prepare("SELECT count(*) FROM changelog");
        s.step();
        return s.column_int64(0);
    }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(CreatedUserAuthenticatesWithTheTokenShownOnce, Site) {
    const std::string token = users.create_user(admin, "vera", "viewer");
    const Principal vera = users.authenticate("Bearer " + token);
    BOOST_TEST(vera.name == "vera");
    BOOST_TEST(std::string(role_name(vera.role)) == "viewer");
    BOOST_TEST(changelog_rows() == 2);
}

BOOST_FIXTURE_TEST_CASE(MissingMalformedUnknownAndRevokedTokensAreAllUnauthenticated, Site) {
    const std::string token = users.create_user(admin, "vera", "viewer");
    for (const std::string& header :
         std::vector<std::string>{std::string(""), std::string("Basic abc"), std::string("Bearer "),
                                  std::string("Bearer nonsense"),
                                  "Bearer " + token.substr(0, token.size() - 1) + "x", token}) {
        expect_error([&] { users.authenticate(header); }, ErrorCode::Unauthenticated,
                     "a valid token is required");
    }
    users.revoke_user(admin, "vera");
    expect_error([&] { users.authenticate("Bearer " + token); }, ErrorCode::Unauthenticated,
                 "a valid token is required");
}

BOOST_FIXTURE_TEST_CASE(OnlyAdminsManageUsers, Site) {
    for (Role role : {Role::ReleaseManager, Role::Cab, Role::Packager, Role::Viewer}) {
        const Principal who{"someone", role};
        expect_error([&] { users.create_user(who, "x", "viewer"); }, ErrorCode::Forbidden,
                     std::string("role ") + role_name(role) + " may not create users");
        expect_error([&] { users.list_users(who); }, ErrorCode::Forbidden, "may not list users");
        expect_error([&] { users.revoke_user(who, "admin"); }, ErrorCode::Forbidden,
                     "may not revoke users");
    }
}

BOOST_FIXTURE_TEST_CASE(BadNamesRolesAndDuplicatesAreRefusedNamingTheField, Site) {
    expect_error([&] { users.create_user(admin, "Robert'); DROP TABLE user;--", "viewer"); },
                 ErrorCode::InvalidInput, "field \"name\"");
    expect_error([&] { users.create_user(admin, "rob", "root"); }, ErrorCode::InvalidInput,
                 "field \"role\"");
    users.create_user(admin, "rob", "packager");
    expect_error([&] { users.create_user(admin, "rob", "viewer"); }, ErrorCode::AlreadyExists,
                 "user rob already exists");
    BOOST_TEST(users.list_users(admin).size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(TheLastAdminCannotBeRevoked, Site) {
    expect_error([&] { users.revoke_user(admin, "admin"); }, ErrorCode::Conflict,
                 "last active admin");
    users.create_user(admin, "second", "admin");
    users.revoke_user(admin, "admin");
    expect_error([&] { users.revoke_user(admin, "admin"); }, ErrorCode::NotFound,
                 "no active user admin");
}

BOOST_FIXTURE_TEST_CASE(TheChangeLogIsAppendOnly, Site) {
    expect_error([&] { db.exec("UPDATE changelog SET actor = 'someone else'"); },
                 ErrorCode::InvalidInput, "append-only");
    expect_error([&] { db.exec("DELETE FROM changelog"); }, ErrorCode::InvalidInput, "append-only");
}
