#define BOOST_TEST_MODULE object_store
#include <sys/stat.h>
#include <sys/time.h>

#include <boost/test/unit_test.hpp>
#include <sstream>

#include "expect_error.h"
#include "ferry/hash.h"
#include "ferry/object_store.h"
#include "temp_dir.h"

using namespace ferry;
using ferry::test::expect_error;

namespace {

std::string tmp_contents(const test::TempDir& dir) { return test::list_tree(dir / "objects/tmp"); }

}  // namespace

BOOST_AUTO_TEST_CASE(PutStoresUnderFanoutDirectoryNamedByHash) {
    test::TempDir dir;
    ObjectStore store(dir.path());
    std::istringstream in("hello objects");
    const PutResult r = store.put(in);
    BOOST_TEST(r.id == hash_bytes("hello objects", 13));
    BOOST_TEST(r.size == 13u);
    BOOST_TEST(r.created);
    const std::string expected_path = dir / ("objects/" + r.id.substr(0, 2) + "/" + r.id);
    BOOST_TEST(store.path(r.id) == expected_path);
    BOOST_TEST(test::read_file(expected_path) == "hello objects");
    struct stat st {};
    BOOST_REQUIRE(::stat(expected_path.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0444u);
    BOOST_TEST(store.exists(r.id));
    BOOST_TEST(store.size(r.id) == 13u);
    BOOST_TEST(tmp_contents(dir).empty());
}

BOOST_AUTO_TEST_CASE(PutWithWrongExpectedIdLeavesNothingBehind) {
    test::TempDir dir;
    ObjectStore store(dir.path());
    std::istringstream in("real content");
    const std::string claimed = hash_bytes("other content", 13);
    expect_error([&] { store.put(in, claimed); }, ErrorCode::VerificationFailed,
                 "object content does not match its id: expected " + claimed);
    BOOST_TEST(!store.exists(claimed));
    BOOST_TEST(store.list().empty());
    BOOST_TEST(tmp_contents(dir).empty());
}

BOOST_AUTO_TEST_CASE(ExistingObjectIsNeverOverwritten) {
    test::TempDir dir;
    ObjectStore store(dir.path());
    std::istringstream first("same bytes");
    const PutResult a = store.put(first);
    struct stat before {};
    ::stat(store.path(a.id).c_str(), &before);
    std::istringstream second("same bytes");
    const PutResult b = store.put(second, a.id);
    BOOST_TEST(!b.created);
    struct stat after {};
    ::stat(store.path(a.id).c_str(), &after);
    BOOST_TEST(before.st_ino == after.st_ino);
    BOOST_TEST(tmp_contents(dir).empty());
}

BOOST_AUTO_TEST_CASE(SizeLimitStopsAnEndlessUpload) {
    test::TempDir dir;
    ObjectStore store(dir.path());
    std::istringstream in(std::string(10000, 'z'));
    expect_error([&] { store.put(in, std::nullopt, 4096); }, ErrorCode::LimitExceeded,
                 "larger than the limit of 4096");
    BOOST_TEST(store.list().empty());
    BOOST_TEST(tmp_contents(dir).empty());
}

BOOST_AUTO_TEST_CASE(BadIdsAreRefusedBeforeTouchingTheDisk) {  // THREATS 28
    test::TempDir dir;
    ObjectStore store(dir.path());
    for (const std::string& bad : std::vector<std::string>{
             "..", "../../etc/passwd", "%2e%2e", std::string(64, 'G'), std::string(63, 'a'),
             std::string(64, 'A'), std::string(62, 'a') + "/x"}) {
        expect_error([&] { store.exists(bad); }, ErrorCode::InvalidInput, "is not an object id");
        expect_error([&] { store.get(bad); }, ErrorCode::InvalidInput, "is not an object id");
    }
    std::istringstream in("x");
    expect_error([&] { store.put(in, std::string("../x")); }, ErrorCode::InvalidInput,
                 "is not an object id");
}

BOOST_AUTO_TEST_CASE(MissingObjectIsNotFound) {
    test::TempDir dir;
    ObjectStore store(dir.path());
    const std::string id(64, 'a');
    BOOST_TEST(!store.exists(id));
    expect_error([&] { store.size(id); }, ErrorCode::NotFound, id);
    expect_error([&] { store.get(id); }, ErrorCode::NotFound, id);
}

BOOST_AUTO_TEST_CASE(VerifyCatchesAnObjectCorruptedOnDisk) {
    test::TempDir dir;
    ObjectStore store(dir.path());
    std::istringstream in("pristine");
    const PutResult r = store.put(in);
    store.verify(r.id);
    ::chmod(store.path(r.id).c_str(), 0644);
    test::write_file(store.path(r.id), "tampered", 0444);
    expect_error([&] { store.verify(r.id); }, ErrorCode::VerificationFailed, "is corrupt");
}

BOOST_AUTO_TEST_CASE(ListReturnsEveryObjectSortedAndIgnoresStrayFiles) {
    test::TempDir dir;
    ObjectStore store(dir.path());
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) {
        std::istringstream in("object " + std::to_string(i));
        ids.push_back(store.put(in).id);
    }
    std::sort(ids.begin(), ids.end());
    test::write_file(dir / "objects/ab/not-an-object", "x");
    BOOST_TEST(store.list() == ids, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(GetStreamsTheStoredBytes) {
    test::TempDir dir;
    ObjectStore store(dir.path());
    std::string big(3 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 251);
    std::istringstream in(big);
    const PutResult r = store.put(in);
    auto stream = store.get(r.id);
    std::ostringstream out;
    out << stream->rdbuf();
    BOOST_TEST(out.str() == big);
}

BOOST_AUTO_TEST_CASE(WriterDiscardedWithoutCommitLeavesNothing) {
    test::TempDir dir;
    ObjectStore store(dir.path());
    {
        auto writer = store.begin_put();
        writer->write("partial", 7);
    }
    BOOST_TEST(store.list().empty());
    BOOST_TEST(tmp_contents(dir).empty());
}

BOOST_AUTO_TEST_CASE(OpeningTheStoreRemovesOnlyStaleTemporaries) {
    test::TempDir dir;
    { ObjectStore store(dir.path()); }
    test::write_file(dir / "objects/tmp/put-old123", "left by a killed put");
    test::write_file(dir / "objects/tmp/put-new456", "a put still running");
    struct timeval old_times[2] = {{::time(nullptr) - 3 * 24 * 3600, 0},
                                   {::time(nullptr) - 3 * 24 * 3600, 0}};
    ::utimes((dir / "objects/tmp/put-old123").c_str(), old_times);
    ObjectStore store(dir.path());
    BOOST_TEST(tmp_contents(dir) == "put-new456\n");
}
