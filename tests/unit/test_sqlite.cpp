#define BOOST_TEST_MODULE sqlite
#include <boost/test/unit_test.hpp>
#include <thread>

#include "expect_error.h"
#include "ferry/sqlite.h"
#include "temp_dir.h"

using namespace ferry;
using namespace ferry::sql;
using ferry::test::expect_error;

namespace {

const std::vector<Migration> kSchema = {
    {"packages", "CREATE TABLE package (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"},
    {"versions",
     "CREATE TABLE version (id INTEGER PRIMARY KEY, package_id INTEGER NOT NULL REFERENCES "
     "package(id),"
     " version TEXT NOT NULL, object BLOB);"},
};

std::int64_t count(Database& db, const std::string& table) {
    Statement s = db.prepare("SELECT count(*) FROM " + table);
    s.step();
    return s.column_int64(0);
}

}  // namespace

BOOST_AUTO_TEST_CASE(OpensWithWalAndForeignKeysEnforced) {
    test::TempDir dir;
    Database db(dir / "site.db");
    {
        Statement mode = db.prepare("PRAGMA journal_mode");
        BOOST_REQUIRE(mode.step());
        BOOST_TEST(mode.column_text(0) == "wal");
    }
    db.migrate(kSchema);
    expect_error(
        [&] {
            db.prepare("INSERT INTO version (package_id, version) VALUES (?, ?)")
                .bind(1, 42)
                .bind(2, "1.0")
                .run();
        },
        ErrorCode::InvalidInput, "FOREIGN KEY constraint failed");
}

BOOST_AUTO_TEST_CASE(MissingDatabaseIsNotCreatedWhenAskedNotTo) {
    test::TempDir dir;
    OpenOptions options;
    options.create = false;
    expect_error([&] { Database db(dir / "absent.db", options); }, ErrorCode::NotFound,
                 "absent.db: no such database");
    BOOST_TEST(!test::path_exists(dir / "absent.db"));
}

BOOST_AUTO_TEST_CASE(MigrationsApplyOnceInOrderAndRecordTheVersion) {
    test::TempDir dir;
    {
        Database db(dir / "site.db");
        BOOST_TEST(db.user_version() == 0);
        BOOST_TEST(db.migrate({kSchema[0]}) == 1);
        BOOST_TEST(db.user_version() == 1);
    }
    Database db(dir / "site.db");
    BOOST_TEST(db.migrate(kSchema) == 1);  // only the new one
    BOOST_TEST(db.migrate(kSchema) == 0);
    BOOST_TEST(db.user_version() == 2);
}

BOOST_AUTO_TEST_CASE(FailedMigrationLeavesTheLastCompleteVersion) {
    test::TempDir dir;
    Database db(dir / "site.db");
    std::vector<Migration> broken = kSchema;
    broken.push_back(
        {"half-broken", "CREATE TABLE extra (x INTEGER); CREATE TABLE package (oops);"});
    expect_error([&] { db.migrate(broken); }, ErrorCode::Internal,
                 "schema migration 3 (half-broken)");
    BOOST_TEST(db.user_version() == 2);
    // The first statement of the failed step was rolled back with it.
    expect_error([&] { db.prepare("SELECT * FROM extra"); }, ErrorCode::Internal,
                 "no such table: extra");
}

BOOST_AUTO_TEST_CASE(DatabaseFromANewerFerryIsRefused) {
    test::TempDir dir;
    Database db(dir / "site.db");
    db.migrate(kSchema);
    expect_error([&] { db.migrate({kSchema[0]}); }, ErrorCode::InvalidInput,
                 "schema is version 2, newer than this program knows (1)");
}

BOOST_AUTO_TEST_CASE(ValuesRoundTripAndStringsAreDataNeverSql) {  // THREATS 29
    test::TempDir dir;
    Database db(dir / "site.db");
    db.migrate(kSchema);
    const std::string hostile = "x'); DROP TABLE package; --";
    db.prepare("INSERT INTO package (name) VALUES (?)").bind(1, hostile).run();
    const std::int64_t id = db.last_insert_rowid();
    const std::string with_nul("a\0b", 3);
    const std::uint8_t blob[] = {0, 1, 2, 255};
    db.prepare("INSERT INTO version (package_id, version, object) VALUES (?, ?, ?)")
        .bind(1, id)
        .bind(2, with_nul)
        .bind_blob(3, blob, sizeof blob)
        .run();
    Statement q = db.prepare(
        "SELECT p.name, v.version, v.object FROM version v JOIN package p ON p.id = v.package_id");
    BOOST_REQUIRE(q.step());
    BOOST_TEST(q.column_text(0) == hostile);
    BOOST_TEST(q.column_text(1) == with_nul);
    BOOST_TEST(q.column_view(0) == hostile);
    BOOST_TEST(q.column_view(1) == with_nul);
    BOOST_TEST(q.column_blob(2) == std::vector<std::uint8_t>(blob, blob + 4),
               boost::test_tools::per_element());
    BOOST_TEST(!q.step());
    BOOST_TEST(count(db, "package") == 1);
}

BOOST_AUTO_TEST_CASE(AColumnViewOfNullIsEmpty) {
    Database db(":memory:");
    Statement q = db.prepare("SELECT NULL, ''");
    BOOST_REQUIRE(q.step());
    BOOST_TEST(q.column_view(0).empty());
    BOOST_TEST(q.column_view(1).empty());
}

BOOST_AUTO_TEST_CASE(UniqueViolationIsAlreadyExistsAndTheStatementStaysUsable) {
    test::TempDir dir;
    Database db(dir / "site.db");
    db.migrate(kSchema);
    Statement insert = db.prepare("INSERT INTO package (name) VALUES (?)");
    insert.bind(1, "hello").run();
    insert.reset();
    expect_error([&] { insert.bind(1, "hello").run(); }, ErrorCode::AlreadyExists,
                 "UNIQUE constraint failed: package.name");
    insert.reset();
    insert.bind(1, "world").run();
    BOOST_TEST(count(db, "package") == 2);
}

BOOST_AUTO_TEST_CASE(TransactionRollsBackUnlessCommitted) {
    test::TempDir dir;
    Database db(dir / "site.db");
    db.migrate(kSchema);
    try {
        Transaction t(db);
        db.prepare("INSERT INTO package (name) VALUES ('a')").run();
        db.prepare("INSERT INTO package (name) VALUES ('a')").run();  // throws: duplicate
        t.commit();
    } catch (const Error&) {
    }
    BOOST_TEST(count(db, "package") == 0);
    {
        Transaction t(db);
        db.prepare("INSERT INTO package (name) VALUES ('b')").run();
        t.commit();
    }
    BOOST_TEST(count(db, "package") == 1);
}

BOOST_AUTO_TEST_CASE(ANestedTransactionIsPartOfTheOuterOne) {
    test::TempDir dir;
    Database db(dir / "site.db");
    db.migrate(kSchema);
    {
        Transaction outer(db);
        db.prepare("INSERT INTO package (name) VALUES ('a')").run();
        {
            Transaction inner(db);  // rolled back alone: the outer one goes on
            db.prepare("INSERT INTO package (name) VALUES ('b')").run();
        }
        {
            Transaction inner(db);
            db.prepare("INSERT INTO package (name) VALUES ('c')").run();
            inner.commit();
        }
        BOOST_TEST(count(db, "package") == 2);
    }  // the outer one is not committed: nothing stays
    BOOST_TEST(count(db, "package") == 0);
    {
        Transaction outer(db);
        {
            Transaction inner(db);
            db.prepare("INSERT INTO package (name) VALUES ('d')").run();
            inner.commit();
        }
        outer.commit();
    }
    BOOST_TEST(count(db, "package") == 1);
}

BOOST_AUTO_TEST_CASE(ConcurrentWritersWaitInsteadOfFailing) {
    test::TempDir dir;
    { Database(dir / "site.db").migrate(kSchema); }
    auto writer = [&](const std::string& prefix) {
        Database db(dir / "site.db");
        for (int i = 0; i < 200; ++i) {
            Transaction t(db);
            db.prepare("INSERT INTO package (name) VALUES (?)")
                .bind(1, prefix + std::to_string(i))
                .run();
            t.commit();
        }
    };
    std::thread a(writer, "a"), b(writer, "b");
    a.join();
    b.join();
    Database db(dir / "site.db");
    BOOST_TEST(count(db, "package") == 400);
}

BOOST_AUTO_TEST_CASE(ErrorsNameTheStatement) {
    Database db(":memory:");
    expect_error([&] { db.prepare("SELEC 1"); }, ErrorCode::Internal, "(in: SELEC 1)");
    expect_error([&] { db.prepare("SELECT 1; SELECT 2"); }, ErrorCode::Internal,
                 "use exec() for several");
}

BOOST_AUTO_TEST_CASE(CachedStatementsAreReusedAndNeverKeepASnapshotOpen) {
    ferry::test::TempDir dir;
    ferry::sql::Database reader(dir / "cache.db");
    reader.exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2);");
    ferry::sql::Database writer(dir / "cache.db");
    {
        const auto row = reader.cached("SELECT v FROM t ORDER BY v");
        BOOST_REQUIRE(row->step());  // one row read, the second left unread
        BOOST_TEST(row->column_int64(0) == 1);
    }
    // The guard reset the statement: the writer's change is visible to the next use.
    writer.exec("UPDATE t SET v = v + 10");
    const auto again = reader.cached("SELECT v FROM t ORDER BY v");
    BOOST_REQUIRE(again->step());
    BOOST_TEST(again->column_int64(0) == 11);
}

// Texts that vary (one per collection query) do not grow a connection's cache without bound:
// past the limit, the statements not in use are finalized; one in use stays and keeps working.
BOOST_AUTO_TEST_CASE(TheStatementCacheIsBoundedAndKeepsWhatIsInUse) {
    Database db(":memory:");
    db.exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2), (3);");
    const auto held = db.cached("SELECT v FROM t ORDER BY v");
    BOOST_REQUIRE(held->step());
    for (std::size_t i = 0; i < 3 * Database::kMaxCachedStatements; ++i) {
        const auto row = db.cached("SELECT " + std::to_string(i));
        BOOST_REQUIRE(row->step());
        BOOST_TEST(row->column_int64(0) == static_cast<std::int64_t>(i));
        BOOST_TEST(db.cached_count() <= Database::kMaxCachedStatements);
    }
    BOOST_REQUIRE(held->step());  // the statement in use was kept, mid-result
    BOOST_TEST(held->column_int64(0) == 2);
    // A text that failed to prepare leaves nothing behind.
    const std::size_t before = db.cached_count();
    expect_error([&] { db.cached("SELEC 1"); }, ErrorCode::Internal, "SELEC 1");
    BOOST_TEST(db.cached_count() == before);
}
