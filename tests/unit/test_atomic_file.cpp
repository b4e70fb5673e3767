#define BOOST_TEST_MODULE atomic_file
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

#include "expect_error.h"
#include "ferry/atomic_file.h"
#include "temp_dir.h"

using namespace ferry;
using ferry::test::expect_error;

BOOST_AUTO_TEST_CASE(NothingIsVisibleUntilCommit) {
    test::TempDir dir;
    {
        AtomicFile file(dir / "out.txt");
        file.write("half written");
        BOOST_TEST(!test::path_exists(dir / "out.txt"));
    }
    // Destroyed without commit: no destination, no temporary left behind.
    BOOST_TEST(test::list_tree(dir.path()).empty());
}

BOOST_AUTO_TEST_CASE(CommitReplacesTheDestinationWholeWithTheRequestedMode) {
    test::TempDir dir;
    test::write_file(dir / "out.txt", "old");
    AtomicFile file(dir / "out.txt", 0600);
    file.write("new content");
    BOOST_TEST(test::read_file(dir / "out.txt") == "old");
    file.commit();
    BOOST_TEST(test::read_file(dir / "out.txt") == "new content");
    struct stat st {};
    ::stat((dir / "out.txt").c_str(), &st);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    BOOST_TEST(test::list_tree(dir.path()) == "out.txt\n");
}

BOOST_AUTO_TEST_CASE(CommitIfAbsentNeverOverwrites) {
    test::TempDir dir;
    test::write_file(dir / "object", "first");
    AtomicFile file(dir / "object");
    file.write("second");
    BOOST_TEST(!file.commit_if_absent());
    BOOST_TEST(test::read_file(dir / "object") == "first");
    BOOST_TEST(test::list_tree(dir.path()) == "object\n");
    AtomicFile fresh(dir / "new");
    fresh.write("x");
    BOOST_TEST(fresh.commit_if_absent());
    BOOST_TEST(test::read_file(dir / "new") == "x");
}

BOOST_AUTO_TEST_CASE(UnwritableDirectoryNamesTheDestination) {
    expect_error([] { AtomicFile file("/nonexistent-dir/out.txt"); }, ErrorCode::NotFound,
                 "/nonexistent-dir/out.txt");
}

BOOST_AUTO_TEST_CASE(ReadSmallFileEnforcesItsLimit) {
    test::TempDir dir;
    test::write_file(dir / "big", std::string(5000, 'x'));
    BOOST_TEST(read_small_file(dir / "big", 5000).size() == 5000u);
    expect_error([&] { read_small_file(dir / "big", 4999); }, ErrorCode::InvalidInput,
                 "larger than 4999 bytes");
    expect_error([&] { read_small_file(dir.path(), 10); }, ErrorCode::InvalidInput,
                 "not a regular file");
}
