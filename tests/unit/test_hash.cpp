#define BOOST_TEST_MODULE hash
#include <boost/test/unit_test.hpp>

#include "expect_error.h"
#include "ferry/encoding.h"
#include "ferry/error.h"
#include "ferry/hash.h"
#include "run_process.h"
#include "temp_dir.h"

using namespace ferry;

BOOST_AUTO_TEST_CASE(EmptyInputHasTheKnownBlake2b256Digest) {
    // BLAKE2b-256 of the empty string, from the BLAKE2 reference.
    BOOST_TEST(hash_bytes("", 0) ==
               "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

BOOST_AUTO_TEST_CASE(StreamingInChunksEqualsHashingAtOnce) {
    std::string data(1'000'003, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + 7);
    ObjectHasher hasher;
    for (std::size_t i = 0; i < data.size(); i += 4093)
        hasher.update(data.data() + i, std::min<std::size_t>(4093, data.size() - i));
    BOOST_TEST(hasher.finish_hex() == hash_bytes(data.data(), data.size()));
}

BOOST_AUTO_TEST_CASE(FileIdEqualsB2sumLength256) {
    test::TempDir dir;
    std::string data(300'000, 'x');
    data += "tail";
    test::write_file(dir / "f", data);
    const auto b2sum = test::run_process({"b2sum", "-l", "256", dir / "f"});
    BOOST_REQUIRE_EQUAL(b2sum.exit_code, 0);
    BOOST_TEST(b2sum.out.substr(0, 64) == hash_file(dir / "f"));
}

BOOST_AUTO_TEST_CASE(MissingFileNamesThePath) {
    test::expect_error([] { hash_file("/nonexistent/ferry-file"); }, ErrorCode::NotFound,
                       "/nonexistent/ferry-file");
}

BOOST_AUTO_TEST_CASE(ObjectIdsAreExactly64LowercaseHexDigits) {
    BOOST_TEST(is_object_id(std::string(64, 'a')));
    BOOST_TEST(!is_object_id(std::string(64, 'A')));
    BOOST_TEST(!is_object_id(std::string(63, 'a')));
    BOOST_TEST(!is_object_id(std::string(62, 'a') + ".."));
    BOOST_TEST(!is_object_id("%2e%2e"));
}

BOOST_AUTO_TEST_CASE(Base64RefusesWhitespaceAndTrailingGarbage) {
    Bytes out;
    BOOST_TEST(from_base64("aGVsbG8=", out));
    BOOST_TEST(std::string(out.begin(), out.end()) == "hello");
    BOOST_TEST(!from_base64("aGVs bG8=", out));
    BOOST_TEST(!from_base64("aGVsbG8=!", out));
    BOOST_TEST(to_base64(reinterpret_cast<const std::uint8_t*>("hello"), 5) == "aGVsbG8=");
}
