#define BOOST_TEST_MODULE policy
#include <boost/test/unit_test.hpp>

#include "expect_error.h"
#include "ferry/hash.h"
#include "ferry/policy.h"
#include "run_process.h"
#include "temp_dir.h"

using namespace ferry;
using ferry::test::expect_error;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;

struct Site {
    minisign::SecretKey key = minisign::SecretKey::generate();
    minisign::PublicKey pub = key.public_key();
    minisign::SecretKey publisher = minisign::SecretKey::generate();

    Policy policy(std::uint64_t version, const std::string& client = "client-1") const {
        Policy p;
        p.client_id = client;
        p.version = version;
        p.issued_at = kNow - 60;
        p.expires_at = kNow + 3600;
        p.publishers.push_back(
            {"Ferry Samples", publisher.public_key().to_base64(), {"hello", "lib*"}});
        PolicyAdvertisement a;
        a.id = "adv-1";
        a.package = "hello";
        a.version = "1.0";
        a.object_id = std::string(64, 'a');
        a.size = 1556;
        minisign::Prehash prehash{};
        a.signature = minisign::sign_prehash(publisher, prehash, "package:hello\tversion:1.0", "u")
                          .to_file_text();
        a.available_at = kNow;
        a.deadline = kNow + 86400;
        a.mandatory = true;
        a.postpone_max = 3;
        a.postpone_max_delay_s = 3600;
        a.windows = {"Mon-Fri 22:00-06:00"};
        p.advertisements.push_back(a);
        return p;
    }
};

AcceptedPolicy accepted(const SignedPolicy& s, std::uint64_t version) {
    return {version, hash_bytes(s.json.data(), s.json.size())};
}

}  // namespace

BOOST_AUTO_TEST_CASE(SignedPolicyVerifiesAndRoundTrips) {
    Site site;
    const SignedPolicy s = sign_policy(site.policy(5), site.key);
    const Policy p = verify_policy(s, site.pub, "client-1", {}, kNow);
    BOOST_TEST(p.version == 5u);
    BOOST_TEST(p.to_json() == s.json);
    BOOST_REQUIRE(p.advertisements.size() == 1u);
    BOOST_TEST(*p.advertisements[0].deadline == kNow + 86400);
    BOOST_TEST(p.advertisements[0].windows[0] == "Mon-Fri 22:00-06:00");
}

BOOST_AUTO_TEST_CASE(StockMinisignVerifiesAPolicyWithTheSitePublicKey) {
    Site site;
    const SignedPolicy s = sign_policy(site.policy(1), site.key);
    test::TempDir dir;
    test::write_file(dir / "policy.json", s.json);
    test::write_file(dir / "policy.json.minisig", s.signature);
    test::write_file(dir / "site.pub", site.pub.to_file_text());
    const auto r =
        test::run_process({"minisign", "-Vm", dir / "policy.json", "-p", dir / "site.pub"});
    BOOST_TEST(r.exit_code == 0, r.err);
    BOOST_TEST(r.out.find("policy\tclient:client-1\tversion:1") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(OlderVersionIsRefused) {  // THREATS 8, 17 (replayed by a DP)
    Site site;
    const SignedPolicy old_policy = sign_policy(site.policy(3), site.key);
    const SignedPolicy current = sign_policy(site.policy(4), site.key);
    expect_error(
        [&] { verify_policy(old_policy, site.pub, "client-1", accepted(current, 4), kNow); },
        ErrorCode::VerificationFailed, "version 3 is older than the accepted version 4");
}

BOOST_AUTO_TEST_CASE(SameVersionWithDifferentBytesIsRefused) {  // THREATS 9
    Site site;
    const SignedPolicy first = sign_policy(site.policy(4), site.key);
    Policy changed = site.policy(4);
    changed.advertisements[0].mandatory = false;
    const SignedPolicy second = sign_policy(changed, site.key);
    verify_policy(first, site.pub, "client-1", accepted(first, 4),
                  kNow);  // the same one again: fine
    expect_error([&] { verify_policy(second, site.pub, "client-1", accepted(first, 4), kNow); },
                 ErrorCode::VerificationFailed,
                 "version 4 was already accepted with different content");
}

BOOST_AUTO_TEST_CASE(ExpiredPolicyIsRefused) {  // THREATS 10
    Site site;
    const SignedPolicy s = sign_policy(site.policy(2), site.key);
    expect_error([&] { verify_policy(s, site.pub, "client-1", {}, kNow + 3600); },
                 ErrorCode::VerificationFailed, "expired at");
}

BOOST_AUTO_TEST_CASE(PolicySignedByAnyOtherKeyIsRefused) {  // THREATS 11
    Site site;
    Site impostor;
    const SignedPolicy forged = sign_policy(site.policy(9), impostor.key);
    expect_error([&] { verify_policy(forged, site.pub, "client-1", {}, kNow); },
                 ErrorCode::VerificationFailed, "not signed by the site key");
}

BOOST_AUTO_TEST_CASE(PolicyForAnotherClientIsRefused) {
    Site site;
    const SignedPolicy s = sign_policy(site.policy(2, "client-2"), site.key);
    expect_error([&] { verify_policy(s, site.pub, "client-1", {}, kNow); },
                 ErrorCode::VerificationFailed, "addressed to client client-2, not client-1");
}

BOOST_AUTO_TEST_CASE(EditedBytesUnderAValidSignatureAreRefused) {
    Site site;
    SignedPolicy s = sign_policy(site.policy(2), site.key);
    s.json.replace(s.json.find("\"mandatory\": true"), 17, "\"mandatory\": fals");
    expect_error([&] { verify_policy(s, site.pub, "client-1", {}, kNow); },
                 ErrorCode::VerificationFailed, "not signed by the site key");
}

BOOST_AUTO_TEST_CASE(OversizedPolicyIsRefusedBeforeAnythingElse) {
    Site site;
    SignedPolicy s = sign_policy(site.policy(2), site.key);
    s.json.append(kMaxPolicyBytes, ' ');
    expect_error([&] { verify_policy(s, site.pub, "client-1", {}, kNow); },
                 ErrorCode::LimitExceeded, "larger than");
}

BOOST_AUTO_TEST_CASE(PublisherScopeDecidesWhoMaySignWhat) {  // THREATS 2, 12
    Site site;
    const Policy p = site.policy(1);
    Blake2b hasher(64);
    minisign::Prehash prehash{};
    hasher.finish(prehash.data());
    const auto by_publisher = minisign::sign_prehash(site.publisher, prehash, "package:x", "u");
    BOOST_TEST(publisher_key_for(p, "hello", by_publisher).to_base64() ==
               site.publisher.public_key().to_base64());
    BOOST_TEST(publisher_key_for(p, "libfoo", by_publisher).to_base64() ==
               site.publisher.public_key().to_base64());
    expect_error([&] { publisher_key_for(p, "openssh-server", by_publisher); },
                 ErrorCode::VerificationFailed,
                 "publisher Ferry Samples may not sign package openssh-server");
    const auto by_stranger =
        minisign::sign_prehash(minisign::SecretKey::generate(), prehash, "package:x", "u");
    expect_error([&] { publisher_key_for(p, "hello", by_stranger); }, ErrorCode::VerificationFailed,
                 "unknown signer");
}

BOOST_AUTO_TEST_CASE(MalformedPolicyFieldsAreNamed) {
    Site site;
    std::string json = site.policy(1).to_json();
    json.replace(json.find("\"action\": \"install\""), 19, "\"action\": \"format\" ");
    expect_error([&] { Policy::parse(json, "policy"); }, ErrorCode::InvalidInput,
                 "field \"advertisements[0].action\": must be install or uninstall");
}

// The distribution points an agent fetches from are part of what the site signs (issue 5).
BOOST_AUTO_TEST_CASE(SourcesAreSignedAndRoundTrip) {
    Site site;
    Policy with = site.policy(3);
    with.sources = {"http://dp-a.example:8080", "https://10.0.0.7:8443/ferry"};
    const SignedPolicy s = sign_policy(with, site.key);
    // Canonical: keys in order, "sources" between "publishers" and "version".
    const auto publishers = s.json.find("\"publishers\"");
    const auto sources = s.json.find("\"sources\": [");
    BOOST_TEST_REQUIRE(sources != std::string::npos, s.json);
    BOOST_TEST(sources < s.json.find("\"http://dp-a.example:8080\""));
    BOOST_TEST(s.json.find("\"http://dp-a.example:8080\"") <
               s.json.find("\"https://10.0.0.7:8443/ferry\""));
    BOOST_TEST(publishers < sources);
    BOOST_TEST(sources < s.json.rfind("\"version\""));
    const Policy p = verify_policy(s, site.pub, "client-1", {}, kNow);
    BOOST_TEST(p.sources == with.sources);
    BOOST_TEST(p.to_json() == s.json);
    BOOST_TEST(Policy::parse(s.json, "policy").to_json() == s.json);

    // A DP cannot add itself: any edit of the list breaks the site's signature.
    SignedPolicy forged = s;
    forged.json.replace(forged.json.find("dp-a.example"), 12, "evil.example");
    expect_error([&] { verify_policy(forged, site.pub, "client-1", {}, kNow); },
                 ErrorCode::VerificationFailed, "not signed by the site key");
}

BOOST_AUTO_TEST_CASE(PoliciesWithoutSourcesKeepTheirBytesAndStillParse) {
    Site site;
    // No sources: no "sources" key at all, so a policy reads as an older site wrote it, and a
    // policy signed by an older site (without the field) verifies.
    const SignedPolicy old_style = sign_policy(site.policy(2), site.key);
    BOOST_TEST(old_style.json.find("sources") == std::string::npos, old_style.json);
    const Policy p = verify_policy(old_style, site.pub, "client-1", {}, kNow);
    BOOST_TEST(p.sources.empty());
    BOOST_TEST(p.to_json() == old_style.json);
    // Written by hand, as a pre-DP site wrote them: no sources, and an explicit empty list.
    std::string json = old_style.json;
    BOOST_TEST(Policy::parse(json, "policy").sources.empty());
    json.insert(json.rfind("\"version\""), "\"sources\": [], ");
    BOOST_TEST(Policy::parse(json, "policy").sources.empty());
}

BOOST_AUTO_TEST_CASE(BadSourcesAreRefusedNamingTheEntry) {
    Site site;
    const std::string base = site.policy(1).to_json();
    auto with_sources = [&](const std::string& list) {
        std::string json = base;
        json.insert(json.rfind("\"version\""), "\"sources\": " + list + ", ");
        return json;
    };
    BOOST_TEST(
        Policy::parse(with_sources(R"(["http://a:1", "https://b"])"), "policy").sources.size() ==
        2u);
    expect_error([&] { Policy::parse(with_sources(R"(["ftp://dp.example"])"), "policy"); },
                 ErrorCode::InvalidInput,
                 "field \"sources\"[0]: \"ftp://dp.example\" is not an http:// or https:// URL");
    expect_error([&] { Policy::parse(with_sources(R"(["http://ok", "http://"])"), "policy"); },
                 ErrorCode::InvalidInput, "field \"sources\"[1]");
    expect_error([&] { Policy::parse(with_sources(R"(["http://a b"])"), "policy"); },
                 ErrorCode::InvalidInput, "is not an http:// or https:// URL");
    expect_error([&] { Policy::parse(with_sources(R"([""])"), "policy"); }, ErrorCode::InvalidInput,
                 "is not an http:// or https:// URL");
    expect_error([&] { Policy::parse(with_sources(R"([7])"), "policy"); }, ErrorCode::InvalidInput,
                 "field \"sources\"[0]: must be a string");
    expect_error([&] { Policy::parse(with_sources(R"("http://a")"), "policy"); },
                 ErrorCode::InvalidInput, "field \"sources\"");
    const std::string long_url = "http://" + std::string(250, 'a');  // 257 bytes
    expect_error([&] { Policy::parse(with_sources("[\"" + long_url + "\"]"), "policy"); },
                 ErrorCode::InvalidInput, "at most 256 printable bytes");
    std::string seventeen = "[";
    for (int i = 0; i < 17; ++i)
        seventeen += (i ? ", " : "") + std::string("\"http://dp-") + std::to_string(i) + "\"";
    seventeen += "]";
    expect_error([&] { Policy::parse(with_sources(seventeen), "policy"); }, ErrorCode::InvalidInput,
                 "field \"sources\": at most 16 items");
    seventeen.erase(seventeen.rfind(", "), std::string::npos);  // sixteen: fine
    BOOST_TEST(Policy::parse(with_sources(seventeen + "]"), "policy").sources.size() == 16u);
}

BOOST_AUTO_TEST_CASE(SourceUrlsAreHttpOrHttpsWithoutSpaces) {
    for (const char* good :
         {"http://a", "https://dp.example:8443", "http://[::1]:80/x", "https://10.0.0.1/base/"})
        BOOST_TEST(is_source_url(good), good);
    for (const char* bad : {"", "http://", "https://", "HTTP://a", "ftp://a", "http:/a",
                            "http://a b", "http://a\tb", "http://a\nb", "dp.example:80"})
        BOOST_TEST(!is_source_url(bad), bad);
    BOOST_TEST(is_source_url("http://" + std::string(249, 'a')));   // 256 bytes
    BOOST_TEST(!is_source_url("http://" + std::string(250, 'a')));  // 257
}
