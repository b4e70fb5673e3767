// WalCheckpointer and sql::OpenOptions::checkpoint_on_commit: request connections leave the
// write-ahead log to grow, and the checkpointer copies it back without a commit waiting for it.
#define BOOST_TEST_MODULE wal_checkpointer
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>

#include "ferry/sqlite.h"
#include "temp_dir.h"
#include "wal_checkpointer.h"

using namespace ferry;

namespace {

// Writes about `mebibytes` MiB in transactions of 256 KiB, as a busy site would.
void write_rows(sql::Database& db, int mebibytes) {
    db.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB)");
    const std::string value(1024, 'x');
    for (int batch = 0; batch < mebibytes * 4; ++batch) {
        sql::Transaction transaction(db);
        sql::Statement insert = db.prepare("INSERT INTO t (v) VALUES (?)");
        for (int i = 0; i < 256; ++i) {
            insert.bind(1, value).run();
            insert.reset();
        }
        transaction.commit();
    }
}

std::uintmax_t wal_size(const std::string& db_path) {
    return std::filesystem::file_size(db_path + "-wal");
}

}  // namespace

BOOST_AUTO_TEST_CASE(CommitsWithoutCheckpointsLeaveTheLogToTheCheckpointer) {
    test::TempDir dir;
    const std::string path = dir / "site.db";
    sql::OpenOptions options;
    options.checkpoint_on_commit = false;
    sql::Database writer(path, options);
    write_rows(writer, 8);
    // No commit checkpointed: the log holds all 8 MiB (SQLite's default would have kept it near
    // 1,000 pages, about 4 MiB).
    BOOST_TEST(wal_size(path) > 8u * 1024 * 1024);
    server::WalCheckpointer checkpointer(path);
    BOOST_TEST(checkpointer.checkpoint() == 0);  // every frame copied
    // The next writer starts the log from its beginning: it does not grow past what it was.
    const auto before = wal_size(path);
    write_rows(writer, 1);
    BOOST_TEST(wal_size(path) <= before);
    sql::Database reader(path);
    sql::Statement count = reader.prepare("SELECT count(*) FROM t");
    BOOST_REQUIRE(count.step());
    BOOST_TEST(count.column_int64(0) == 9 * 4 * 256);
}

BOOST_AUTO_TEST_CASE(ByDefaultCommitsCheckpoint) {
    test::TempDir dir;
    const std::string path = dir / "agent.db";
    sql::Database writer(path);
    write_rows(writer, 8);
    BOOST_TEST(wal_size(path) < 8u * 1024 * 1024);
}

BOOST_AUTO_TEST_CASE(TheThreadCheckpointsEverySecondAndOnStop) {
    test::TempDir dir;
    const std::string path = dir / "site.db";
    sql::OpenOptions options;
    options.checkpoint_on_commit = false;
    sql::Database writer(path, options);
    server::WalCheckpointer checkpointer(path);
    checkpointer.start();
    write_rows(writer, 4);
    checkpointer.stop();  // and a last checkpoint
    // The rows are in the database file itself, not only in the log.
    BOOST_TEST(std::filesystem::file_size(path) > 4u * 1024 * 1024);
}
