// ferryd over HTTPS as an operator sets it up: a self-signed certificate made with the openssl
// CLI, tls_certificate and tls_key in ferryd.ini, ferryctl trusting it through FERRY_CA_FILE.
// Everything listens on 127.0.0.1 only.
#define BOOST_TEST_MODULE ferryd_tls
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <signal.h>

#include <boost/test/unit_test.hpp>

#include "background_process.h"
#include "run_process.h"
#include "site_fixture.h"
#include "temp_dir.h"

using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

// A self-signed certificate (EC P-256) for `subject_alt_names`, e.g. "IP:127.0.0.1".
void make_certificate(const TempDir& dir, const std::string& base, const std::string& common_name,
                      const std::string& subject_alt_names) {
    const auto r = run_process(
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-keyout", dir / (base + ".key"), "-out", dir / (base + ".crt"),
         "-subj", "/CN=" + common_name, "-addext", "subjectAltName=" + subject_alt_names});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
}

// Replaces `key = …` in [ferryd] (ferryd init writes every key, some empty).
void set_ini(const std::string& path, const std::string& key, const std::string& value) {
    std::string ini = read_file(path);
    const auto at = ini.find("\n" + key + " =");
    BOOST_TEST_REQUIRE(at != std::string::npos, ini);
    const auto end = ini.find('\n', at + 1);
    ini.replace(at + 1, end - at - 1, key + " = " + value);
    write_file(path, ini, 0600);
}

struct TlsSite {
    TempDir dir;
    std::string token;
    TlsSite() {
        BOOST_TEST_REQUIRE(have_program("openssl"));
        make_certificate(dir, "site", "127.0.0.1", "IP:127.0.0.1,DNS:localhost");
        const auto init = run_process({FERRYD_BINARY, "init", "--role", "site", "--dir",
                                       dir / "site", "--listen", "127.0.0.1:0"});
        BOOST_TEST_REQUIRE(init.exit_code == 0, init.err);
        token = init.out.substr(init.out.rfind("admin_"));
        while (!token.empty() && token.back() == '\n') token.pop_back();
        use_certificate("site");
    }
    std::string config() const { return dir / "site/ferryd.ini"; }
    void use_certificate(const std::string& base) {
        set_ini(config(), "tls_certificate", dir / (base + ".crt"));
        set_ini(config(), "tls_key", dir / (base + ".key"));
    }
    // ferryctl with FERRY_CA_FILE set to `ca_file`, or unset when empty.
    ProcessResult ctl(const std::string& server, const std::string& ca_file,
                      const std::vector<std::string>& args) const {
        std::vector<std::string> argv = {"env", "-u", "FERRY_CA_FILE"};
        if (!ca_file.empty()) argv.push_back("FERRY_CA_FILE=" + ca_file);
        argv.insert(argv.end(), {"FERRY_TOKEN=" + token, FERRYCTL_BINARY, "--server", server});
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv);
    }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(FerryctlTalksHttpsAndVerifiesTheCertificate, TlsSite) {
    BackgroundProcess ferryd({FERRYD_BINARY, "--config", config()});
    const std::string listening = ferryd.wait_for_line("listening on", 10s);
    BOOST_TEST(contains(listening, "https://127.0.0.1:"), listening);
    const std::uint16_t port = port_from(listening);
    const std::string https = "https://127.0.0.1:" + std::to_string(port);

    const auto trusted = ctl(https, dir / "site.crt", {"user", "list"});
    BOOST_TEST(trusted.exit_code == 0, trusted.err);
    BOOST_TEST(contains(trusted.out, "admin"), trusted.out);
    // The certificate names localhost too.
    const auto by_name =
        ctl("https://localhost:" + std::to_string(port), dir / "site.crt", {"user", "list"});
    BOOST_TEST(by_name.exit_code == 0, by_name.err);

    // Without FERRY_CA_FILE the system store applies, and it does not know this certificate.
    const auto untrusted = ctl(https, "", {"user", "list"});
    BOOST_TEST((untrusted.exit_code == 1 || untrusted.exit_code == 2), untrusted.exit_code);
    BOOST_TEST(contains(untrusted.err, "certificate"), untrusted.err);
    BOOST_TEST(contains(untrusted.err, https), untrusted.err);
    BOOST_TEST(contains(untrusted.err, "self-signed"), untrusted.err);
    BOOST_TEST(untrusted.out.empty(), untrusted.out);

    // Another self-signed certificate is no substitute.
    make_certificate(dir, "other", "127.0.0.1", "IP:127.0.0.1");
    const auto wrong_ca = ctl(https, dir / "other.crt", {"user", "list"});
    BOOST_TEST(wrong_ca.exit_code == 1, wrong_ca.err);
    BOOST_TEST(contains(wrong_ca.err, "certificate"), wrong_ca.err);

    const auto missing_ca = ctl(https, dir / "nope.crt", {"user", "list"});
    BOOST_TEST(missing_ca.exit_code == 2, missing_ca.err);
    BOOST_TEST(contains(missing_ca.err, "FERRY_CA_FILE"), missing_ca.err);
    BOOST_TEST(contains(missing_ca.err, dir / "nope.crt"), missing_ca.err);

    // Plain HTTP to the TLS port gets no answer, from ferryctl or from a bare HTTP client.
    const auto plain = ctl("http://127.0.0.1:" + std::to_string(port), "", {"user", "list"});
    BOOST_TEST(plain.exit_code != 0);
    BOOST_TEST(contains(plain.err, "cannot reach ferryd"), plain.err);
    bool answered = false;
    try {
        Poco::Net::HTTPClientSession session("127.0.0.1", port);
        session.setTimeout(Poco::Timespan(10, 0));
        Poco::Net::HTTPRequest request("GET", "/healthz", Poco::Net::HTTPMessage::HTTP_1_1);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::string body;
        Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
        answered = true;
    } catch (const Poco::Exception&) {
    }
    BOOST_TEST(!answered);

    // TLS 1.2 is served; TLS 1.1 is not (SECLEVEL=0 so that the client would offer it).
    const auto tls12 =
        run_process({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                     "-tls1_2", "-CAfile", dir / "site.crt", "-verify_return_error"});
    BOOST_TEST(tls12.exit_code == 0, tls12.err);
    BOOST_TEST(contains(tls12.out, "Verify return code: 0 (ok)"), tls12.out);
    const auto tls11 =
        run_process({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                     "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
    BOOST_TEST(tls11.exit_code != 0, tls11.out);

    // The server is unharmed by all of the above.
    BOOST_TEST(ctl(https, dir / "site.crt", {"user", "list"}).exit_code == 0);
    ferryd.signal(SIGTERM);
    BOOST_TEST(ferryd.wait(10s) == 0);
}

BOOST_FIXTURE_TEST_CASE(ACertificateForAnotherNameIsRefused, TlsSite) {
    make_certificate(dir, "elsewhere", "ferry.example", "DNS:ferry.example");
    use_certificate("elsewhere");
    BackgroundProcess ferryd({FERRYD_BINARY, "--config", config()});
    const std::uint16_t port = port_from(ferryd.wait_for_line("listening on", 10s));
    // Trusted issuer, wrong name: still refused, for 127.0.0.1 and for localhost alike.
    for (const std::string host : {"127.0.0.1", "localhost"}) {
        const auto r = ctl("https://" + host + ":" + std::to_string(port), dir / "elsewhere.crt",
                           {"user", "list"});
        BOOST_TEST(r.exit_code == 1, host << ": " << r.err);
        BOOST_TEST(contains(r.err, "certificate"), r.err);
        BOOST_TEST(contains(r.err, "mismatch"), r.err);
    }
}

BOOST_FIXTURE_TEST_CASE(AMissingKeyFileStopsFerrydWithItsName, TlsSite) {
    set_ini(config(), "tls_key", dir / "missing.key");
    const auto r = run_process({FERRYD_BINARY, "--config", config()});
    BOOST_TEST(r.exit_code != 0);
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(contains(r.err, dir / "missing.key"), r.err);
    BOOST_TEST(!contains(r.out, "listening on"), r.out);
}

BOOST_FIXTURE_TEST_CASE(UnusableCertificatesAreRefusedAtStart, TlsSite) {
    // A key that belongs to another certificate.
    make_certificate(dir, "other", "127.0.0.1", "IP:127.0.0.1");
    set_ini(config(), "tls_key", dir / "other.key");
    const auto mismatched = run_process({FERRYD_BINARY, "--config", config()});
    BOOST_TEST(mismatched.exit_code == 2);
    BOOST_TEST(contains(mismatched.err, "is not the key of tls_certificate"), mismatched.err);

    // Not PEM at all.
    write_file(dir / "garbage.crt", "not a certificate\n");
    set_ini(config(), "tls_certificate", dir / "garbage.crt");
    set_ini(config(), "tls_key", dir / "site.key");
    const auto garbage = run_process({FERRYD_BINARY, "--config", config()});
    BOOST_TEST(garbage.exit_code == 2);
    BOOST_TEST(contains(garbage.err, dir / "garbage.crt"), garbage.err);

    // One without the other.
    set_ini(config(), "tls_certificate", "");
    const auto half = run_process({FERRYD_BINARY, "--config", config()});
    BOOST_TEST(half.exit_code == 2);
    BOOST_TEST(contains(half.err, "tls_certificate and tls_key go together"), half.err);
}
