// What the web console stands on, over real HTTP: the console's files (and nothing else) under
// /console/, the Content-Security-Policy on every answer, GET /api/v1/whoami, POST
// /api/v1/objects (an upload named by its hash), and GET /api/v1/clients/summary.
#define BOOST_TEST_MODULE ferryd_console
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <thread>

#include "background_process.h"
#include "ferry/hash.h"
#include "run_process.h"
#include "site_fixture.h"
#include "temp_dir.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

Poco::JSON::Object::Ptr parsed(const std::string& body) {
    return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
}

std::string header(const HttpAnswer& answer, const std::string& name) {
    const auto found = answer.headers.find(name);
    return found == answer.headers.end() ? std::string() : found->second;
}

// A site serving a console directory of the test's own making.
struct ConsoleSite : InitialisedSite {
    std::string console = dir / "console";
    std::unique_ptr<BackgroundProcess> ferryd;
    std::uint16_t port = 0;
    ConsoleSite() {
        std::filesystem::create_directories(console + "/js/pages");
        write_file(console + "/index.html", "<!doctype html><title>Ferry</title>");
        write_file(console + "/js/pages/dashboard.js", "export const x = 1;\n");
        write_file(console + "/console.css", "body {}\n");
        write_file(console + "/.hidden.js", "secret\n");
        write_file(console + "/notes.exe", "binary\n");
        write_file(dir / "outside.html", "NOT-FOR-THE-CONSOLE\n");
        write_file(config(), read_file(config()) + "console_dir = " + console + "\n");
        ferryd = std::make_unique<BackgroundProcess>(
            std::vector<std::string>{FERRYD_BINARY, "--config", config()});
        port = port_from(ferryd->wait_for_line("listening on", 10s));
    }
    std::string user(const std::string& name, const std::string& role) {
        const auto created = http(port, "POST", "/api/v1/users", token,
                                  R"({"name": ")" + name + R"(", "role": ")" + role + R"("})");
        BOOST_TEST_REQUIRE(created.status == 201, created.body);
        return token_in(created.body);
    }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(TheConsoleFilesAreServedWithTheirTypesAndAStrictPolicy, ConsoleSite) {
    const auto root = http(port, "GET", "/");
    BOOST_TEST(root.status == 302);
    BOOST_TEST(header(root, "Location") == "/console/");
    BOOST_TEST(header(http(port, "GET", "/console"), "Location") == "/console/");

    const auto index = http(port, "GET", "/console/");
    BOOST_TEST_REQUIRE(index.status == 200, index.body);
    BOOST_TEST(index.body == "<!doctype html><title>Ferry</title>");
    BOOST_TEST(header(index, "Content-Type") == "text/html; charset=utf-8");
    const std::string csp = header(index, "Content-Security-Policy");
    BOOST_TEST(contains(csp, "script-src 'self'"), csp);
    BOOST_TEST(contains(csp, "connect-src 'self'"), csp);
    BOOST_TEST(contains(csp, "frame-ancestors 'none'"), csp);
    BOOST_TEST(!contains(csp, "unsafe"), csp);
    BOOST_TEST(header(index, "X-Content-Type-Options") == "nosniff");
    BOOST_TEST(header(index, "Referrer-Policy") == "no-referrer");
    BOOST_TEST(header(index, "Cache-Control") == "no-cache");
    const std::string etag = header(index, "ETag");
    BOOST_TEST(etag.size() > 2);
    const auto again = http(port, "GET", "/console/index.html", "", "", {{"If-None-Match", etag}});
    BOOST_TEST(again.status == 304);
    BOOST_TEST(again.body.empty());

    const auto module = http(port, "GET", "/console/js/pages/dashboard.js");
    BOOST_TEST(module.status == 200);
    BOOST_TEST(header(module, "Content-Type") == "text/javascript; charset=utf-8");
    BOOST_TEST(header(http(port, "GET", "/console/console.css"), "Content-Type") ==
               "text/css; charset=utf-8");
    BOOST_TEST(http(port, "HEAD", "/console/console.css").status == 200);
    BOOST_TEST(http(port, "POST", "/console/index.html").status == 404);
}

BOOST_FIXTURE_TEST_CASE(NothingOutsideTheConsoleFilesIsReachable, ConsoleSite) {
    // THREATS: traversal and hidden files; each is refused before the filesystem is asked.
    for (const std::string path :
         {"/console/../outside.html", "/console/%2e%2e/outside.html", "/console/..%2foutside.html",
          "/console/js/../index.html", "/console/.hidden.js", "/console/notes.exe",
          "/console/js//pages/dashboard.js", "/console/js/", "/console/missing.js",
          "/console/js/pages/dashboard.js/", "/console/../site/ferry.db", "/console/%00.html",
          "/console/a\\b.js"}) {
        const auto answer = http(port, "GET", path);
        BOOST_TEST(answer.status == 404, path + ": " + answer.body);
        BOOST_TEST(!contains(answer.body, "NOT-FOR-THE-CONSOLE"), path);
    }
}

BOOST_FIXTURE_TEST_CASE(EveryAnswerCarriesAContentSecurityPolicy, ConsoleSite) {
    for (const auto& answer : {http(port, "GET", "/healthz"), http(port, "GET", "/api/v1/releases"),
                               http(port, "GET", "/api/v1/releases", token),
                               http(port, "GET", "/api/v1/nothing", token)}) {
        BOOST_TEST(contains(header(answer, "Content-Security-Policy"), "default-src 'none'"),
                   answer.status);
        BOOST_TEST(header(answer, "X-Content-Type-Options") == "nosniff");
    }
}

BOOST_FIXTURE_TEST_CASE(WhoamiSaysWhoTheTokenIsAndWhatItsRoleAllows, ConsoleSite) {
    const auto admin = http(port, "GET", "/api/v1/whoami", token);
    BOOST_TEST_REQUIRE(admin.status == 200, admin.body);
    auto who = parsed(admin.body);
    BOOST_TEST(who->getValue<std::string>("name") == "admin");
    BOOST_TEST(who->getValue<std::string>("role") == "admin");
    BOOST_TEST(contains(admin.body, "\"manage-users\""));
    BOOST_TEST(contains(admin.body, "\"advertise\""));

    const std::string vera = user("vera", "viewer");
    const auto viewer = http(port, "GET", "/api/v1/whoami", vera);
    BOOST_TEST_REQUIRE(viewer.status == 200, viewer.body);
    who = parsed(viewer.body);
    BOOST_TEST(who->getValue<std::string>("role") == "viewer");
    const auto permissions = who->getArray("permissions");
    std::vector<std::string> names;
    for (std::size_t i = 0; i < permissions->size(); ++i)
        names.push_back(permissions->getElement<std::string>(i));
    BOOST_TEST(names == (std::vector<std::string>{"read-site", "read-content", "read-objects"}),
               viewer.body);

    const std::string paula = user("paula", "packager");
    BOOST_TEST(contains(http(port, "GET", "/api/v1/whoami", paula).body, "\"upload-objects\""));
    BOOST_TEST(http(port, "GET", "/api/v1/whoami").status == 401);
    BOOST_TEST(http(port, "GET", "/api/v1/whoami", "admin_nonsense").status == 401);
    BOOST_TEST(http(port, "POST", "/api/v1/whoami", token, "{}").status == 404);
}

BOOST_FIXTURE_TEST_CASE(AnUploadWithoutAnIdIsNamedByItsHash, ConsoleSite) {
    const std::string paula = user("paula", "packager");
    const std::string vera = user("vera", "viewer");
    const std::string bytes = "a package's bytes, uploaded from a browser\n";
    const std::string id = hash_bytes(bytes.data(), bytes.size());

    const auto refused = http(port, "POST", "/api/v1/objects", vera, bytes);
    BOOST_TEST(refused.status == 403, refused.body);
    BOOST_TEST(contains(refused.body, "viewer"), refused.body);
    BOOST_TEST(http(port, "GET", "/api/v1/objects/" + id, paula).status == 404);

    const auto stored = http(port, "POST", "/api/v1/objects", paula, bytes);
    BOOST_TEST_REQUIRE(stored.status == 201, stored.body);
    BOOST_TEST(parsed(stored.body)->getValue<std::string>("id") == id);
    BOOST_TEST(contains(stored.body, "\"created\":true"), stored.body);
    BOOST_TEST(http(port, "GET", "/api/v1/objects/" + id, vera).body == bytes);

    const auto twice = http(port, "POST", "/api/v1/objects", paula, bytes);
    BOOST_TEST(twice.status == 200, twice.body);
    BOOST_TEST(contains(twice.body, "\"created\":false"), twice.body);
    BOOST_TEST(http(port, "GET", "/api/v1/objects", paula).status == 404);
    BOOST_TEST(http(port, "POST", "/api/v1/objects", "", bytes).status == 401);
}

BOOST_FIXTURE_TEST_CASE(TheClientSummaryCountsClientsByStateAndLastContact, ConsoleSite) {
    const std::string vera = user("vera", "viewer");
    auto summary = parsed(http(port, "GET", "/api/v1/clients/summary", vera).body);
    BOOST_TEST(summary->getValue<int>("total") == 0);

    const auto secret = http(port, "POST", "/api/v1/secrets", token, R"({"name": "lab"})");
    BOOST_TEST_REQUIRE(secret.status == 201, secret.body);
    std::vector<std::string> client_tokens;
    for (const std::string host : {"ws-1", "ws-2", "ws-3"}) {
        const auto enrolled = http(port, "POST", "/api/v1/clients/enroll", "",
                                   R"({"secret": ")" + json_field(secret.body, "secret") +
                                       R"(", "hostname": ")" + host + R"("})");
        BOOST_TEST_REQUIRE(enrolled.status == 201, enrolled.body);
        client_tokens.push_back(token_in(enrolled.body));
    }
    // One reports its inventory: it has been seen.
    const auto uid = json_field(http(port, "GET", "/api/v1/clients", vera).body, "id");
    const auto inventory =
        http(port, "POST", "/api/v1/clients/" + uid + "/inventory", client_tokens[0],
             R"({"full": true, "seq": 1, "facts": {"os.name": "debian"}, "software": []})");
    BOOST_TEST_REQUIRE(inventory.status == 200, inventory.body);

    // Last contact is written within a second or so (LastContactWriter).
    HttpAnswer answer;
    for (int i = 0; i < 60; ++i) {
        answer = http(port, "GET", "/api/v1/clients/summary", vera);
        BOOST_TEST_REQUIRE(answer.status == 200, answer.body);
        summary = parsed(answer.body);
        if (summary->getValue<int>("seen_last_day") >= 1) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    BOOST_TEST(summary->getValue<int>("total") == 3);
    BOOST_TEST(summary->getValue<int>("active") == 3);
    BOOST_TEST(summary->getValue<int>("pending") == 0);
    BOOST_TEST(summary->getValue<int>("seen_last_day") >= 1);
    BOOST_TEST(summary->getValue<int>("seen_last_hour") == summary->getValue<int>("seen_last_day"));
    BOOST_TEST(http(port, "GET", "/api/v1/clients/summary").status == 401);

    // A client's history: empty before it reported anything; 404 for no such client.
    const auto history = http(port, "GET", "/api/v1/clients/" + uid + "/history", vera);
    BOOST_TEST_REQUIRE(history.status == 200, history.body);
    BOOST_TEST(parsed(history.body)->getArray("history")->size() == 0u);
    BOOST_TEST(http(port, "GET", "/api/v1/clients/cl_0000000000000000/history", vera).status ==
               404);
    BOOST_TEST(http(port, "GET", "/api/v1/clients/" + uid + "/history?limit=0", vera).status ==
               400);
}
