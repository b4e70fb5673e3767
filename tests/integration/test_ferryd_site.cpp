// ferryd as an operator meets it: init a site in a temporary directory, serve on an ephemeral
// loopback port, probe it over real HTTP, stop it with SIGTERM.
#define BOOST_TEST_MODULE ferryd_site
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <map>

#include "background_process.h"
#include "ferry/hash.h"
#include "ferry/minisign.h"
#include "ferry/sqlite.h"
#include "ferry/token.h"
#include "run_process.h"
#include "site_fixture.h"
#include "temp_dir.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_CASE(InitCreatesAPrivateSiteAndPrintsTheAdminTokenOnce, InitialisedSite) {
    BOOST_TEST(is_well_formed_token(token), token);
    struct stat st {};
    BOOST_REQUIRE(::stat((dir / "site/keys/site.key").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    BOOST_REQUIRE(::stat((dir / "site").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0700u);
    minisign::PublicKey::load(dir / "site/keys/site.pub");
    // Only the digest is stored.
    sql::Database db(dir / "site/ferry.db");
    sql::Statement user = db.prepare("SELECT role, token_digest FROM user WHERE name = 'admin'");
    BOOST_REQUIRE(user.step());
    BOOST_TEST(user.column_text(0) == "admin");
    BOOST_TEST(user.column_text(1) == token_digest(token));
    BOOST_TEST(!contains(read_file(dir / "site/ferry.db"), token));
    sql::Statement log = db.prepare("SELECT action FROM changelog");
    BOOST_REQUIRE(log.step());
    BOOST_TEST(log.column_text(0) == "site.init");
}

BOOST_FIXTURE_TEST_CASE(SecondInitIsRefusedAndChangesNothing, InitialisedSite) {
    const std::string before = read_file(dir / "site/ferryd.ini");
    const auto again =
        run_process({FERRYD_BINARY, "init", "--role", "site", "--dir", dir / "site"});
    BOOST_TEST(again.exit_code == 2);
    BOOST_TEST(contains(again.err, "is already initialised"), again.err);
    BOOST_TEST(read_file(dir / "site/ferryd.ini") == before);
}

BOOST_AUTO_TEST_CASE(InitRefusesBadArguments) {
    TempDir dir;
    const auto no_role = run_process({FERRYD_BINARY, "init", "--dir", dir / "s"});
    BOOST_TEST(no_role.exit_code == 2);
    BOOST_TEST(contains(no_role.err, "--role is required"));
    const auto bad_listen = run_process(
        {FERRYD_BINARY, "init", "--role", "site", "--dir", dir / "s", "--listen", "localhost"});
    BOOST_TEST(bad_listen.exit_code == 2);
    BOOST_TEST(contains(bad_listen.err, "--listen: \"localhost\" is not HOST:PORT"),
               bad_listen.err);
}

BOOST_FIXTURE_TEST_CASE(ServesHealthAndMetricsThenStopsOnSigterm, InitialisedSite) {
    BackgroundProcess ferryd({FERRYD_BINARY, "--config", config()});
    const std::uint16_t port = port_from(ferryd.wait_for_line("listening on", 10s));
    const auto health = http(port, "GET", "/healthz");
    BOOST_TEST(health.status == 200);
    BOOST_TEST(contains(health.body, "\"status\": \"ok\""), health.body);
    BOOST_TEST(http(port, "GET", "/no/such/route").status == 404);
    BOOST_TEST(http(port, "POST", "/healthz").status == 405);
    const auto metrics = http(port, "GET", "/metrics");
    BOOST_TEST(metrics.status == 200);
    BOOST_TEST(
        contains(metrics.body, "ferryd_http_requests_total{route=\"/healthz\",status=\"200\"} 1"),
        metrics.body);
    BOOST_TEST(
        contains(metrics.body, "ferryd_http_requests_total{route=\"unmatched\",status=\"404\"} 1"),
        metrics.body);
    ferryd.signal(SIGTERM);
    BOOST_TEST(ferryd.wait(10s) == 0);
}

// Silent connections — a port scanner, clients on a bad link, or someone holding sockets open
// on purpose — must not stop the site: before HttpFront, 16 of them took every thread for 10 s
// each, and 80 stopped the site for about a minute. Now they wait in the front's loops, where
// they cost no thread, and a connection that never completes its head is closed.
BOOST_FIXTURE_TEST_CASE(SilentConnectionsDoNotStopTheSite, RunningSite) {
    std::vector<Poco::Net::StreamSocket> silent;
    for (int i = 0; i < 200; ++i) silent.emplace_back(Poco::Net::SocketAddress("127.0.0.1", port));
    std::vector<Poco::Net::StreamSocket> trickling;  // a head begun and never finished
    for (int i = 0; i < 50; ++i) {
        trickling.emplace_back(Poco::Net::SocketAddress("127.0.0.1", port));
        const std::string start = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        trickling.back().sendBytes(start.data(), static_cast<int>(start.size()));
    }
    // Every request is still answered, one after another, while all 250 stay open. (Each of
    // Poco's 16 threads would have waited 10 s for one of them: about 160 s for the lot.)
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) BOOST_TEST(http(port, "GET", "/healthz").status == 200);
    const auto waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
    BOOST_TEST(waited.count() < 8.0, waited.count() << " s for 20 requests");
    // /metrics shows where they wait: in the loops. Its own request has a handler thread (and
    // a /healthz connection that just ended may still be counted).
    const std::string metrics = http(port, "GET", "/metrics").body;
    auto gauge = [&](const std::string& where) {
        const std::string name = "ferryd_http_connections{where=\"" + where + "\"} ";
        const auto at = metrics.find(name);
        return at == std::string::npos ? -1 : std::stoi(metrics.substr(at + name.size()));
    };
    BOOST_TEST(gauge("loop") >= 250, metrics);
    BOOST_TEST(gauge("loop") <= 252, metrics);
    BOOST_TEST(gauge("handler") >= 1, metrics);
    BOOST_TEST(gauge("handler") <= 3, metrics);
    // The unfinished heads are closed by the site (after its 10 s for a head).
    Poco::Net::StreamSocket& unfinished = trickling.front();
    unfinished.setReceiveTimeout(Poco::Timespan(20, 0));
    char byte = 0;
    int got = -1;
    try {
        got = unfinished.receiveBytes(&byte, 1);
    } catch (const Poco::Exception&) {
        got = -2;  // reset rather than closed: also let go
    }
    BOOST_TEST(got <= 0);
    BOOST_TEST(http(port, "GET", "/healthz").status == 200);
}

BOOST_FIXTURE_TEST_CASE(RefusesPlainHttpBeyondLoopback, InitialisedSite) {
    std::string ini = read_file(config());
    ini.replace(ini.find("listen = 127.0.0.1:0"), 20, "listen = 0.0.0.0:0");
    write_file(config(), ini, 0600);
    const auto r = run_process({FERRYD_BINARY, "--config", config()});
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(contains(r.err, "plain HTTP is served only on loopback"), r.err);
}

BOOST_AUTO_TEST_CASE(MissingConfigIsNamed) {
    const auto r = run_process({FERRYD_BINARY, "--config", "/nonexistent/ferryd.ini"});
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(contains(r.err, "/nonexistent/ferryd.ini"), r.err);
}

BOOST_FIXTURE_TEST_CASE(UsersApiChecksTokensAndRoles, RunningSite) {  // THREATS 28
    BOOST_TEST(http(port, "GET", "/api/v1/users").status == 401);
    BOOST_TEST(http(port, "GET", "/api/v1/users", "admin_" + std::string(43, 'A')).status == 401);
    BOOST_TEST(http(port, "GET", "/api/v1/users", token).status == 200);

    const auto created =
        http(port, "POST", "/api/v1/users", token, R"({"name": "vera", "role": "viewer"})");
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    const std::string vera = token_in(created.body);
    BOOST_TEST(is_well_formed_token(vera), created.body);

    const auto forbidden =
        http(port, "POST", "/api/v1/users", vera, R"({"name": "mallory", "role": "admin"})");
    BOOST_TEST(forbidden.status == 403);
    BOOST_TEST(contains(forbidden.body, "role viewer may not create users"), forbidden.body);

    BOOST_TEST(http(port, "POST", "/api/v1/users/vera/revoke", token).status == 200);
    BOOST_TEST(http(port, "GET", "/api/v1/users", vera).status == 401);
    const auto last_admin = http(port, "POST", "/api/v1/users/admin/revoke", token);
    BOOST_TEST(last_admin.status == 409);
    BOOST_TEST(contains(last_admin.body, "last active admin"), last_admin.body);
}

BOOST_FIXTURE_TEST_CASE(BadBodiesAre400NamingTheFieldAndTheServerKeepsServing,
                        RunningSite) {  // THREATS 30
    const auto missing = http(port, "POST", "/api/v1/users", token, R"({"role": "viewer"})");
    BOOST_TEST(missing.status == 400);
    BOOST_TEST(contains(missing.body, "field \\\"name\\\": is required"), missing.body);
    const auto wrong_type =
        http(port, "POST", "/api/v1/users", token, R"({"name": 7, "role": "viewer"})");
    BOOST_TEST(wrong_type.status == 400);
    BOOST_TEST(contains(wrong_type.body, "must be a string"), wrong_type.body);
    BOOST_TEST(http(port, "POST", "/api/v1/users", token, "{not json").status == 400);
    BOOST_TEST(
        http(port, "POST", "/api/v1/users", token, "[" + std::string(100000, '1') + "]").status ==
        413);
    const auto injection = http(port, "POST", "/api/v1/users", token,
                                R"({"name": "x'); DROP TABLE user; --", "role": "viewer"})");
    BOOST_TEST(injection.status == 400);
    const auto duplicate =
        http(port, "POST", "/api/v1/users", token, R"({"name": "admin", "role": "viewer"})");
    BOOST_TEST(duplicate.status == 409);
    BOOST_TEST(http(port, "GET", "/healthz").status == 200);
    BOOST_TEST(http(port, "GET", "/api/v1/users", token).status == 200);
}

BOOST_FIXTURE_TEST_CASE(FerryctlManagesUsersThroughTheApi, RunningSite) {
    const std::string server = "http://127.0.0.1:" + std::to_string(port);
    auto ctl = [&](std::vector<std::string> args, const std::string& as) {
        std::vector<std::string> argv = {FERRYCTL_BINARY, "--server", server, "--token", as};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv);
    };
    const auto added = ctl({"user", "add", "paula", "--role", "packager"}, token);
    BOOST_TEST_REQUIRE(added.exit_code == 0, added.err);
    const std::string paula = added.out.substr(added.out.rfind("packager_"), 9 + 43);
    BOOST_TEST(is_well_formed_token(paula), added.out);
    const auto listed = ctl({"user", "list"}, token);
    BOOST_TEST(contains(listed.out, "paula"), listed.out);
    BOOST_TEST(contains(listed.out, "packager"), listed.out);
    const auto as_packager = ctl({"user", "list"}, paula);
    BOOST_TEST(as_packager.exit_code == 1);
    BOOST_TEST(contains(as_packager.err, "role packager may not list users"), as_packager.err);
    BOOST_TEST(ctl({"user", "revoke", "paula"}, token).exit_code == 0);
    const auto revoked = ctl({"user", "list"}, paula);
    BOOST_TEST(revoked.exit_code == 1);
    BOOST_TEST(contains(revoked.err, "a valid token is required"), revoked.err);
    const auto json = ctl({"user", "list", "--json"}, token);
    BOOST_TEST(contains(json.out, "\"revoked_at\""), json.out);
    BOOST_TEST(ctl({"user", "frobnicate"}, token).exit_code == 2);
    const auto unreachable = run_process(
        {FERRYCTL_BINARY, "--server", "http://127.0.0.1:1", "--token", token, "user", "list"});
    BOOST_TEST(unreachable.exit_code == 2);
    BOOST_TEST(contains(unreachable.err, "cannot reach ferryd at http://127.0.0.1:1"),
               unreachable.err);
}

BOOST_FIXTURE_TEST_CASE(ObjectsUploadVerifiedAndServeWithRangeAndEtag, RunningSite) {  // THREATS 28
    std::string content(300000, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 13 + 5);
    const std::string id = hash_bytes(content.data(), content.size());
    const std::string path = "/api/v1/objects/" + id;

    BOOST_TEST(http(port, "PUT", path, "", content).status == 401);
    const auto viewer = token_in(
        http(port, "POST", "/api/v1/users", token, R"({"name": "vera", "role": "viewer"})").body);
    const auto forbidden = http(port, "PUT", path, viewer, content);
    BOOST_TEST(forbidden.status == 403);
    BOOST_TEST(contains(forbidden.body, "role viewer may not upload objects"), forbidden.body);

    const std::string wrong_id = hash_bytes("other", 5);
    const auto mismatch = http(port, "PUT", "/api/v1/objects/" + wrong_id, token, content);
    BOOST_TEST(mismatch.status == 422);
    BOOST_TEST(contains(mismatch.body, "does not match its id"), mismatch.body);
    BOOST_TEST(http(port, "GET", "/api/v1/objects/" + wrong_id, token).status == 404);
    BOOST_TEST(list_tree(dir / "site/objects/tmp").empty());

    for (const std::string& bad : std::vector<std::string>{std::string(".."), std::string("%2e%2e"),
                                                           std::string("..%2f..%2fetc%2fpasswd"),
                                                           std::string(64, 'A'), id.substr(1)}) {
        BOOST_TEST(http(port, "GET", "/api/v1/objects/" + bad, token).status == 400, bad);
        BOOST_TEST(http(port, "PUT", "/api/v1/objects/" + bad, token, "x").status == 400, bad);
    }

    const auto stored = http(port, "PUT", path, token, content);
    BOOST_TEST(stored.status == 201, stored.body);
    const auto again = http(port, "PUT", path, token, content);
    BOOST_TEST(again.status == 200);
    BOOST_TEST(contains(again.body, "\"created\":false"), again.body);

    const auto whole = http(port, "GET", path, viewer);
    BOOST_TEST(whole.status == 200);
    BOOST_TEST(whole.body == content);
    BOOST_TEST(whole.headers.at("ETag") == "\"" + id + "\"");
    BOOST_TEST(contains(whole.headers.at("Cache-Control"), "immutable"));
    BOOST_TEST(http(port, "GET", path, viewer, "", {{"If-None-Match", "\"" + id + "\""}}).status ==
               304);
    const auto part = http(port, "GET", path, viewer, "", {{"Range", "bytes=1000-1999"}});
    BOOST_TEST(part.status == 206);
    BOOST_TEST(part.body == content.substr(1000, 1000));
    BOOST_TEST(part.headers.at("Content-Range") == "bytes 1000-1999/300000");
    const auto tail = http(port, "GET", path, viewer, "", {{"Range", "bytes=299990-"}});
    BOOST_TEST(tail.body == content.substr(299990));
    BOOST_TEST(http(port, "GET", path, viewer, "", {{"Range", "bytes=300000-"}}).status == 416);
    const auto head = http(port, "HEAD", path, viewer);
    BOOST_TEST(head.status == 200);
    BOOST_TEST(head.headers.at("Content-Length") == "300000");
    BOOST_TEST(
        contains(http(port, "GET", "/metrics").body, "ferryd_object_bytes_served_total 301010"));
}

namespace {

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        if (c == '\t') {
            out += "\\t";
            continue;
        }
        out += c;
    }
    return out + "\"";
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(PackagesEnterTheLibraryOnlyWithATrustedScopedSignature,
                        RunningSite) {  // THREATS 2, 12
    const std::string samples = std::string(FERRY_SOURCE_DIR) + "/samples/packages";
    auto pack = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {FERRY_PACK_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = run_process(argv, "", dir.path());
        BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
        return r.out;
    };
    pack({"keygen", "-o", "pub"});
    pack({"keygen", "-o", "stranger"});
    const std::string hello_id =
        pack({"build", samples + "/hello-1.0", "-o", "hello.ferry", "--key", "pub.key"})
            .substr(0, 64);
    const std::string broken_id =
        pack({"build", samples + "/broken-1.0", "-o", "broken.ferry", "--key", "pub.key"})
            .substr(0, 64);
    pack({"build", samples + "/hello-1.1", "-o", "hello11.ferry", "--key", "stranger.key"});
    const std::string hello11_id = hash_file(dir / "hello11.ferry");
    const std::string pub = minisign::PublicKey::load(dir / "pub.pub").to_base64();

    const auto packager = token_in(
        http(port, "POST", "/api/v1/users", token, R"({"name": "paula", "role": "packager"})")
            .body);
    const auto as_packager =
        http(port, "POST", "/api/v1/publishers", packager,
             "{\"name\": \"Samples\", \"key\": \"" + pub + "\", \"packages\": [\"hello\"]}");
    BOOST_TEST(as_packager.status == 403);
    const auto trusted =
        http(port, "POST", "/api/v1/publishers", token,
             "{\"name\": \"Samples\", \"key\": \"" + pub + "\", \"packages\": [\"hello\"]}");
    BOOST_TEST_REQUIRE(trusted.status == 201, trusted.body);

    auto upload = [&](const std::string& file, const std::string& id) {
        const auto r = http(port, "PUT", "/api/v1/objects/" + id, packager, read_file(dir / file));
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
    };
    auto register_package = [&](const std::string& id, const std::string& sig_file) {
        return http(port, "POST", "/api/v1/packages", packager,
                    "{\"object_id\": \"" + id +
                        "\", \"signature\": " + json_string(read_file(dir / sig_file)) + "}");
    };

    const auto not_uploaded = register_package(hello_id, "hello.ferry.minisig");
    BOOST_TEST(not_uploaded.status == 404);
    BOOST_TEST(contains(not_uploaded.body, "upload it first"), not_uploaded.body);

    upload("hello.ferry", hello_id);
    const auto registered = register_package(hello_id, "hello.ferry.minisig");
    BOOST_TEST_REQUIRE(registered.status == 201, registered.body);
    BOOST_TEST(contains(registered.body, "\"publisher\": \"Samples\""), registered.body);
    BOOST_TEST(register_package(hello_id, "hello.ferry.minisig").status == 409);

    upload("broken.ferry", broken_id);
    const auto out_of_scope = register_package(broken_id, "broken.ferry.minisig");
    BOOST_TEST(out_of_scope.status == 422);
    BOOST_TEST(contains(out_of_scope.body, "publisher Samples may not sign package broken"),
               out_of_scope.body);

    upload("hello11.ferry", hello11_id);
    const auto stranger = register_package(hello11_id, "hello11.ferry.minisig");
    BOOST_TEST(stranger.status == 422);
    BOOST_TEST(contains(stranger.body, "unknown signer"), stranger.body);

    // A valid signature for hello 1.0 presented for another object.
    const auto swapped = register_package(broken_id, "hello.ferry.minisig");
    BOOST_TEST(swapped.status == 422);

    const auto listed = http(port, "GET", "/api/v1/packages", packager);
    BOOST_TEST(contains(listed.body, hello_id), listed.body);
    BOOST_TEST(!contains(listed.body, broken_id), listed.body);
    BOOST_TEST(http(port, "GET", "/api/v1/packages/hello", packager).status == 200);
    BOOST_TEST(http(port, "GET", "/api/v1/packages/nope", packager).status == 404);
}

BOOST_FIXTURE_TEST_CASE(FerryPackPushUploadsAndRegisters, RunningSite) {
    const std::string samples = std::string(FERRY_SOURCE_DIR) + "/samples/packages";
    const std::string server = "http://127.0.0.1:" + std::to_string(port);
    auto pack = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {FERRY_PACK_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv, "", dir.path());
    };
    BOOST_TEST_REQUIRE(pack({"keygen", "-o", "pub"}).exit_code == 0);
    BOOST_TEST_REQUIRE(
        pack({"build", samples + "/hello-1.1", "-o", "hello.ferry", "--key", "pub.key"})
            .exit_code == 0);
    BOOST_TEST_REQUIRE(pack({"build", samples + "/broken-1.0", "-o", "unsigned.ferry"}).exit_code ==
                       0);
    const auto trust =
        run_process({FERRYCTL_BINARY, "--server", server, "--token", token, "publisher", "add",
                     "Samples", "--pub", dir / "pub.pub", "--packages", "hello,lib*"});
    BOOST_TEST_REQUIRE(trust.exit_code == 0, trust.err);
    BOOST_TEST(contains(trust.out, "trusted for hello,lib*"), trust.out);
    const auto publishers =
        run_process({FERRYCTL_BINARY, "--server", server, "--token", token, "publisher", "list"});
    BOOST_TEST(contains(publishers.out, minisign::PublicKey::load(dir / "pub.pub").key_id_hex()),
               publishers.out);
    const auto packager = token_in(
        http(port, "POST", "/api/v1/users", token, R"({"name": "paula", "role": "packager"})")
            .body);

    const auto pushed = pack({"push", "hello.ferry", "--server", server, "--token", packager});
    BOOST_TEST(pushed.exit_code == 0, pushed.err);
    BOOST_TEST(contains(pushed.out, "pushed hello 1.1"), pushed.out);
    BOOST_TEST(contains(http(port, "GET", "/api/v1/packages/hello", packager).body,
                        "\"version\": \"1.1\""));
    const auto listed = run_process(
        {FERRYCTL_BINARY, "--server", server, "--token", packager, "package", "show", "hello"});
    BOOST_TEST(contains(listed.out, "hello                1.1          Samples"), listed.out);

    auto ctl = [&](std::vector<std::string> args, const std::string& as) {
        std::vector<std::string> argv = {FERRYCTL_BINARY, "--server", server, "--token", as};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv);
    };
    const auto not_allowed = ctl({"package", "retire", "hello@1.1"}, packager);
    BOOST_TEST(not_allowed.exit_code == 1);
    BOOST_TEST(contains(not_allowed.err, "role packager may not retire package versions"),
               not_allowed.err);
    BOOST_TEST(ctl({"package", "retire", "hello@1.1"}, token).exit_code == 0);
    const auto twice = ctl({"package", "retire", "hello@1.1"}, token);
    BOOST_TEST(twice.exit_code == 1);
    BOOST_TEST(contains(twice.err, "hello 1.1 is already retired"), twice.err);
    BOOST_TEST(ctl({"package", "retire", "hello@9.9"}, token).exit_code == 2);
    BOOST_TEST(contains(ctl({"package", "show", "hello", "--json"}, packager).out, "retired_at"));

    const auto again = pack({"push", "hello.ferry", "--server", server, "--token", packager});
    BOOST_TEST(again.exit_code == 1);
    BOOST_TEST(contains(again.err, "hello 1.1 is already in the library"), again.err);
    const auto unsigned_push =
        pack({"push", "unsigned.ferry", "--server", server, "--token", packager});
    BOOST_TEST(unsigned_push.exit_code == 2);
    BOOST_TEST(contains(unsigned_push.err, "sign the package first"), unsigned_push.err);
    const auto viewer = token_in(
        http(port, "POST", "/api/v1/users", token, R"({"name": "vera", "role": "viewer"})").body);
    const auto refused = pack({"push", "hello.ferry", "--server", server, "--token", viewer});
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(contains(refused.err, "role viewer may not upload objects"), refused.err);
}

BOOST_FIXTURE_TEST_CASE(AnRfcIsApprovedByTheCabThroughFerryctl, RunningSite) {
    const std::string server = "http://127.0.0.1:" + std::to_string(port);
    auto ctl = [&](std::vector<std::string> args, const std::string& as) {
        std::vector<std::string> argv = {FERRYCTL_BINARY, "--server", server, "--token", as};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv);
    };
    auto user = [&](const std::string& name, const std::string& role) {
        const auto r = ctl({"user", "add", name, "--role", role, "--json"}, token);
        BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
        return token_in(r.out);
    };
    const std::string rita = user("rita", "release-manager"), carl = user("carl", "cab"),
                      cleo = user("cleo", "cab");

    const auto created =
        ctl({"rfc", "create", "--title", "Roll out hello 1.1", "--risk", "high"}, rita);
    BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
    BOOST_TEST(contains(created.out, "RFC-0001  submitted  Roll out hello 1.1"), created.out);
    BOOST_TEST(contains(created.out, "needs 2 CAB approval(s)"), created.out);

    const auto not_cab = ctl({"rfc", "approve", "RFC-0001"}, rita);
    BOOST_TEST(not_cab.exit_code == 1);
    BOOST_TEST(contains(not_cab.err, "role release-manager may not approve"), not_cab.err);
    BOOST_TEST(ctl({"rfc", "approve", "RFC-0001"}, carl).exit_code == 0);
    const auto twice = ctl({"rfc", "approve", "RFC-0001"}, carl);
    BOOST_TEST(twice.exit_code == 1);
    BOOST_TEST(contains(twice.err, "carl has already voted on RFC-0001"), twice.err);
    const auto approved =
        ctl({"rfc", "approve", "RFC-0001", "--reason", "backout plan checked"}, cleo);
    BOOST_TEST(contains(approved.out, "RFC-0001  approved"), approved.out);
    const auto late = ctl({"rfc", "reject", "RFC-0001", "--reason", "too late"}, cleo);
    BOOST_TEST(late.exit_code == 1);
    BOOST_TEST(contains(late.err, "RFC-0001 is approved; only a submitted RFC takes votes"),
               late.err);

    const auto listed = ctl({"rfc", "list"}, rita);
    BOOST_TEST(contains(listed.out, "RFC-0001"), listed.out);
    BOOST_TEST(http(port, "GET", "/api/v1/rfcs/RFC-0009", rita).status == 404);
    BOOST_TEST(http(port, "GET", "/api/v1/rfcs/1%20OR%201=1", rita).status == 400);
    BOOST_TEST(ctl({"rfc", "show", "nonsense"}, rita).exit_code == 2);

    // Every decision is in the change log, with who and the state before and after.
    sql::Database db(dir / "site/ferry.db");
    sql::Statement log = db.prepare(
        "SELECT actor, action, before, after FROM changelog WHERE action LIKE 'rfc.%' ORDER BY id");
    std::vector<std::string> rows;
    while (log.step())
        rows.push_back(log.column_text(0) + " " + log.column_text(1) + " " + log.column_text(2) +
                       ">" + log.column_text(3));
    BOOST_REQUIRE(rows.size() == 3u);
    BOOST_TEST(rows[2] == "cleo rfc.approve submitted>approved (2/2): backout plan checked");
}
