#define BOOST_TEST_MODULE token
#include <boost/test/unit_test.hpp>
#include <set>

#include "expect_error.h"
#include "ferry/encoding.h"
#include "ferry/token.h"

using namespace ferry;

BOOST_AUTO_TEST_CASE(TokensAreUniqueWellFormedAndNamedByKind) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string token = generate_token("admin");
        BOOST_TEST(token.rfind("admin_", 0) == 0u);
        BOOST_TEST(token.size() == 6u + 43u);
        BOOST_TEST(is_well_formed_token(token));
        BOOST_TEST(seen.insert(token).second);
    }
    BOOST_TEST(is_well_formed_token(generate_token("release-manager")));
}

BOOST_AUTO_TEST_CASE(MalformedTokensAreRecognisedWithoutALookup) {
    const std::string good = generate_token("client");
    BOOST_TEST(!is_well_formed_token(""));
    BOOST_TEST(!is_well_formed_token("client_"));
    BOOST_TEST(!is_well_formed_token(good.substr(0, good.size() - 1)));
    BOOST_TEST(!is_well_formed_token(good + "A"));
    BOOST_TEST(!is_well_formed_token("Client" + good.substr(6)));
    BOOST_TEST(!is_well_formed_token("client_' OR 1=1 --" + std::string(25, 'a')));
    BOOST_TEST(!is_well_formed_token(good.substr(7)));
}

BOOST_AUTO_TEST_CASE(DigestIsStableHexAndRevealsNothingOfTheToken) {
    const std::string token = generate_token("viewer");
    const std::string digest = token_digest(token);
    BOOST_TEST(is_object_id(digest));
    BOOST_TEST(digest == token_digest(token));
    BOOST_TEST(digest != token_digest(generate_token("viewer")));
    BOOST_TEST(digest.find(token.substr(7, 8)) == std::string::npos);
    BOOST_TEST(digests_equal(digest, token_digest(token)));
    BOOST_TEST(!digests_equal(digest, std::string(64, '0')));
    BOOST_TEST(!digests_equal(digest, digest.substr(1)));
}

BOOST_AUTO_TEST_CASE(InvalidKindIsAProgrammingError) {
    test::expect_error([] { generate_token("Admin"); }, ErrorCode::Internal, "token kind");
    test::expect_error([] { generate_token(""); }, ErrorCode::Internal, "token kind");
}
