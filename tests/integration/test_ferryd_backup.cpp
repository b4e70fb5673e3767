// `ferryd backup` of a running site and `ferryd restore` into a new directory, as an operator
// does them: the restored site serves the same library, users, change log and objects; damaged
// or incomplete backups and non-empty targets are refused with the file named.
#define BOOST_TEST_MODULE ferryd_backup
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "background_process.h"
#include "ferry/hash.h"
#include "ferry/object_store.h"
#include "ferry/sqlite.h"
#include "run_process.h"
#include "site_fixture.h"
#include "temp_dir.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

std::string admin_token(const ProcessResult& init) {
    std::string token = init.out.substr(init.out.rfind("admin_"));
    while (!token.empty() && token.back() == '\n') token.pop_back();
    return token;
}

unsigned file_mode(const std::string& path) {
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(path.c_str(), &st) == 0, path);
    return st.st_mode & 0777;
}

// Every row of the change log, oldest first, one line each.
std::vector<std::string> changelog_rows(const std::string& database) {
    sql::Database db(database);
    sql::Statement rows = db.prepare(
        "SELECT id, at, actor, action, subject, coalesce(before, ''), coalesce(after, '') FROM "
        "changelog ORDER BY id");
    std::vector<std::string> out;
    while (rows.step()) {
        std::string row;
        for (int i = 0; i < 7; ++i) row += rows.column_text(i) + "|";
        out.push_back(row);
    }
    return out;
}

std::set<std::string> user_names(const std::string& database) {
    sql::Database db(database);
    sql::Statement rows = db.prepare("SELECT name FROM user");
    std::set<std::string> out;
    while (rows.step()) out.insert(rows.column_text(0));
    return out;
}

struct Site {
    TempDir dir;
    std::string token;
    Site() {
        const auto init = run_process({FERRYD_BINARY, "init", "--role", "site", "--dir",
                                       dir / "site", "--listen", "127.0.0.1:0"});
        BOOST_TEST_REQUIRE(init.exit_code == 0, init.err);
        token = admin_token(init);
    }
    std::string config() const { return dir / "site/ferryd.ini"; }
    ProcessResult ferryd(const std::vector<std::string>& args) const {
        std::vector<std::string> argv = {FERRYD_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv);
    }
};

// A site that is not running, with one object stored directly in its DSL, backed up.
struct BackedUpSite : Site {
    std::string object_id;
    BackedUpSite() {
        const ObjectStore store(dir / "site");
        std::istringstream content(std::string(100000, 'x') + "backup me");
        object_id = store.put(content).id;
        const auto backup = ferryd({"backup", "--config", config(), "--to", dir / "backup"});
        BOOST_TEST_REQUIRE(backup.exit_code == 0, backup.err);
    }
    std::string backed_up_object() const {
        return dir / ("backup/objects/" + object_id.substr(0, 2) + "/" + object_id);
    }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(ARunningSiteBacksUpAndRestoresToTheSameSite, Site) {
    const std::string samples = std::string(FERRY_SOURCE_DIR) + "/samples/packages";
    auto site = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{FERRYD_BINARY, "--config", config()});
    const std::uint16_t port = port_from(site->wait_for_line("listening on", 10s));
    const std::string server = "http://127.0.0.1:" + std::to_string(port);
    auto ctl = [&](const std::string& url, std::vector<std::string> args) {
        std::vector<std::string> argv = {FERRYCTL_BINARY, "--server", url, "--token", token};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = run_process(argv);
        BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
        return r.out;
    };
    auto pack = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {FERRY_PACK_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = run_process(argv, "", dir.path());
        BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
        return r.out;
    };

    // A user, a publisher and a package in the library.
    ctl(server, {"user", "add", "paula", "--role", "packager"});
    pack({"keygen", "-o", "pub"});
    const std::string hello_id =
        pack({"build", samples + "/hello-1.0", "-o", "hello.ferry", "--key", "pub.key"})
            .substr(0, 64);
    ctl(server, {"publisher", "add", "Samples", "--pub", dir / "pub.pub", "--packages", "hello"});
    pack({"push", "hello.ferry", "--server", server, "--token", token});

    // An enrolled client with its signed policy.
    const std::string secret_answer =
        http(port, "POST", "/api/v1/secrets", token, R"({"name": "lab"})").body;
    const std::string secret = json_field(secret_answer, "secret");
    const std::string enrolled = http(port, "POST", "/api/v1/clients/enroll", "",
                                      R"({"secret": ")" + secret + R"(", "hostname": "ws-01"})")
                                     .body;
    const std::string client_id = json_field(enrolled, "client_id");
    const std::string client_token = json_field(enrolled, "token");
    const std::string policy_path = "/api/v1/clients/" + client_id + "/policy";
    HttpAnswer policy_before;
    for (int i = 0; i < 100 && policy_before.status != 200; ++i) {
        if (i > 0) std::this_thread::sleep_for(100ms);
        policy_before = http(port, "GET", policy_path, client_token);
    }
    BOOST_TEST_REQUIRE(policy_before.status == 200, policy_before.body);

    // The backup runs while the site keeps taking writes.
    std::atomic<bool> writing{true};
    std::atomic<int> written{0};
    std::thread writer([&] {
        while (writing) {
            const auto r = http(
                port, "POST", "/api/v1/users", token,
                "{\"name\": \"busy" + std::to_string(written.load()) + "\", \"role\": \"viewer\"}");
            if (r.status == 201) ++written;
        }
    });
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (written < 3 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(5ms);
    const auto backup = run_process(
        {FERRYD_BINARY, "backup", "--config", config(), "--to", dir / "backup", "--json"});
    writing = false;
    writer.join();
    BOOST_TEST_REQUIRE(backup.exit_code == 0, backup.err);
    BOOST_TEST(contains(backup.out, "\"format\": \"ferry-site-backup\""), backup.out);
    BOOST_TEST(contains(backup.out, "\"count\": 1"), backup.out);
    BOOST_TEST(path_exists(dir / "backup/backup.json"));
    BOOST_TEST(file_mode(dir / "backup") == 0700u);
    BOOST_TEST(file_mode(dir / "backup/keys/site.key") == 0600u);
    BOOST_TEST(!path_exists(dir / "backup/ferry.db-wal"));
    BOOST_TEST(!path_exists(dir / "backup/objects/tmp"));

    const std::string packages_before = ctl(server, {"package", "list", "--json"});
    const std::string publishers_before = ctl(server, {"publisher", "list", "--json"});
    const auto object_before = http(port, "GET", "/api/v1/objects/" + hello_id, token);
    BOOST_TEST_REQUIRE(object_before.status == 200);
    site->signal(SIGTERM);
    BOOST_TEST(site->wait(10s) == 0);
    site.reset();
    const std::set<std::string> users_live = user_names(dir / "site/ferry.db");
    const std::vector<std::string> log_live = changelog_rows(dir / "site/ferry.db");

    const auto restore = run_process({FERRYD_BINARY, "restore", "--from", dir / "backup", "--dir",
                                      dir / "restored", "--listen", "127.0.0.1:0"});
    BOOST_TEST_REQUIRE(restore.exit_code == 0, restore.err);
    BOOST_TEST(contains(restore.out, dir / "restored/ferryd.ini"), restore.out);
    BOOST_TEST(contains(read_file(dir / "restored/ferryd.ini"), "data_dir = " + dir / "restored"));
    BOOST_TEST(file_mode(dir / "restored/keys/site.key") == 0600u);
    BOOST_TEST(read_file(dir / "restored/keys/site.key") == read_file(dir / "site/keys/site.key"));
    BOOST_TEST(read_file(dir / "restored/keys/site.pub") == read_file(dir / "site/keys/site.pub"));

    // The snapshot is consistent: every user it has exists on the live site, and it has every
    // user created before the backup started.
    const std::set<std::string> users_restored = user_names(dir / "restored/ferry.db");
    for (const auto& name : users_restored) BOOST_TEST(users_live.count(name) == 1u, name);
    for (const std::string name : {"admin", "paula", "busy0", "busy1", "busy2"})
        BOOST_TEST(users_restored.count(name) == 1u, name);
    // The change log is the live one up to the moment of the snapshot.
    const std::vector<std::string> log_restored = changelog_rows(dir / "restored/ferry.db");
    BOOST_TEST_REQUIRE(!log_restored.empty());
    BOOST_TEST_REQUIRE(log_restored.size() <= log_live.size());
    for (std::size_t i = 0; i < log_restored.size(); ++i)
        BOOST_TEST(log_restored[i] == log_live[i], i);

    BackgroundProcess restored({FERRYD_BINARY, "--config", dir / "restored/ferryd.ini"});
    const std::uint16_t new_port = port_from(restored.wait_for_line("listening on", 10s));
    const std::string new_server = "http://127.0.0.1:" + std::to_string(new_port);
    BOOST_TEST(ctl(new_server, {"package", "list", "--json"}) == packages_before);
    BOOST_TEST(contains(packages_before, hello_id), packages_before);
    BOOST_TEST(ctl(new_server, {"publisher", "list", "--json"}) == publishers_before);
    const std::string users_json = ctl(new_server, {"user", "list", "--json"});
    for (const std::string name : {"admin", "paula", "busy0"})
        BOOST_TEST(contains(users_json, "\"" + name + "\""), users_json);
    const auto changelog = http(new_port, "GET", "/api/v1/changelog", token);
    BOOST_TEST(changelog.status == 200, changelog.body);
    BOOST_TEST(contains(changelog.body, "site.init"), changelog.body);
    // The same signed policy for the same client: an idle poll is still a 304.
    const auto policy_after = http(new_port, "GET", policy_path, client_token);
    BOOST_TEST(policy_after.status == 200, policy_after.body);
    BOOST_TEST(policy_after.body == policy_before.body);
    BOOST_TEST(policy_after.headers.at("ETag") == policy_before.headers.at("ETag"));
    const auto object_after = http(new_port, "GET", "/api/v1/objects/" + hello_id, token);
    BOOST_TEST(object_after.status == 200);
    BOOST_TEST(object_after.headers.at("ETag") == "\"" + hello_id + "\"");
    BOOST_TEST(object_after.headers.at("ETag") == object_before.headers.at("ETag"));
    BOOST_TEST(object_after.body == object_before.body);
    BOOST_TEST(hash_bytes(object_after.body.data(), object_after.body.size()) == hello_id);
    // The restored site takes writes of its own.
    BOOST_TEST(
        http(new_port, "POST", "/api/v1/users", token, R"({"name": "after", "role": "viewer"})")
            .status == 201);
    restored.signal(SIGTERM);
    BOOST_TEST(restored.wait(10s) == 0);
}

BOOST_FIXTURE_TEST_CASE(ACorruptedObjectFailsTheRestoreNamingIt, BackedUpSite) {
    const std::string object = backed_up_object();
    ::chmod(object.c_str(), 0644);
    std::string bytes = read_file(object);
    bytes[500] ^= 0x01;
    write_file(object, bytes, 0444);
    const auto r = ferryd({"restore", "--from", dir / "backup", "--dir", dir / "restored"});
    BOOST_TEST(r.exit_code == 1, r.err);
    BOOST_TEST(contains(r.err, object_id), r.err);
    BOOST_TEST(contains(r.err, "does not match its id"), r.err);
    BOOST_TEST(!path_exists(dir / "restored"));  // nothing half-made is left
}

BOOST_FIXTURE_TEST_CASE(AMissingObjectOrChangedFileFailsVerification, BackedUpSite) {
    const std::string object = backed_up_object();
    const std::string saved = read_file(object);
    BOOST_REQUIRE(::unlink(object.c_str()) == 0);
    const auto missing = ferryd({"restore", "--from", dir / "backup", "--dir", dir / "r1"});
    BOOST_TEST(missing.exit_code == 1, missing.err);
    BOOST_TEST(contains(missing.err, "backup.json records 1"), missing.err);
    BOOST_TEST(!path_exists(dir / "r1"));
    write_file(object, saved, 0444);

    const std::string key = dir / "backup/keys/site.key";
    const std::string key_text = read_file(key);
    write_file(key, key_text + "\n", 0600);
    const auto changed = ferryd({"restore", "--from", dir / "backup", "--dir", dir / "r2"});
    BOOST_TEST(changed.exit_code == 1, changed.err);
    BOOST_TEST(contains(changed.err, key), changed.err);
    BOOST_TEST(!path_exists(dir / "r2"));
    write_file(key, key_text, 0600);

    const std::string db = dir / "backup/ferry.db";
    std::string db_bytes = read_file(db);
    db_bytes[db_bytes.size() - 10] ^= 0x40;
    write_file(db, db_bytes, 0644);
    const auto damaged = ferryd({"restore", "--from", dir / "backup", "--dir", dir / "r3"});
    BOOST_TEST(damaged.exit_code == 1, damaged.err);
    BOOST_TEST(contains(damaged.err, db), damaged.err);
}

BOOST_FIXTURE_TEST_CASE(IncompleteBackupsAndNonEmptyTargetsAreRefused, BackedUpSite) {
    // Into a directory that holds something: refused, and the something is untouched.
    BOOST_REQUIRE(::mkdir((dir / "occupied").c_str(), 0755) == 0);
    write_file(dir / "occupied/keep.txt", "mine");
    const auto occupied = ferryd({"restore", "--from", dir / "backup", "--dir", dir / "occupied"});
    BOOST_TEST(occupied.exit_code == 2, occupied.err);
    BOOST_TEST(contains(occupied.err, dir / "occupied is not empty"), occupied.err);
    BOOST_TEST(list_tree(dir / "occupied") == "keep.txt\n");
    const auto backup_over = ferryd({"backup", "--config", config(), "--to", dir / "occupied"});
    BOOST_TEST(backup_over.exit_code == 2, backup_over.err);
    BOOST_TEST(contains(backup_over.err, "is not empty"), backup_over.err);
    BOOST_TEST(list_tree(dir / "occupied") == "keep.txt\n");

    // An empty directory is fine.
    BOOST_REQUIRE(::mkdir((dir / "empty").c_str(), 0755) == 0);
    const auto into_empty = ferryd({"restore", "--from", dir / "backup", "--dir", dir / "empty"});
    BOOST_TEST(into_empty.exit_code == 0, into_empty.err);
    BOOST_TEST(file_mode(dir / "empty") == 0700u);

    // A backup without its manifest is incomplete.
    const std::string manifest = read_file(dir / "backup/backup.json");
    BOOST_REQUIRE(::unlink((dir / "backup/backup.json").c_str()) == 0);
    const auto incomplete = ferryd({"restore", "--from", dir / "backup", "--dir", dir / "r1"});
    BOOST_TEST(incomplete.exit_code == 2, incomplete.err);
    BOOST_TEST(contains(incomplete.err, dir / "backup/backup.json is missing"), incomplete.err);
    BOOST_TEST(!path_exists(dir / "r1"));
    write_file(dir / "backup/backup.json", manifest.substr(0, manifest.size() / 2), 0600);
    const auto truncated = ferryd({"restore", "--from", dir / "backup", "--dir", dir / "r1"});
    BOOST_TEST(truncated.exit_code == 2, truncated.err);
    BOOST_TEST(contains(truncated.err, "backup.json"), truncated.err);
    BOOST_TEST(!path_exists(dir / "r1"));

    // Usage errors.
    BOOST_TEST(ferryd({"restore", "--from", dir / "backup"}).exit_code == 2);
    BOOST_TEST(ferryd({"backup", "--to", dir / "b2"}).exit_code == 2);
    BOOST_TEST(ferryd({"backup", "--config", config(), "--to", dir / "b2", "--frob"}).exit_code ==
               2);
    const auto bad_listen =
        ferryd({"restore", "--from", dir / "backup", "--dir", dir / "r1", "--listen", "nowhere"});
    BOOST_TEST(bad_listen.exit_code == 2);
    BOOST_TEST(contains(bad_listen.err, "--listen"), bad_listen.err);
    const auto help = ferryd({"backup", "--help"});
    BOOST_TEST(help.exit_code == 0);
    BOOST_TEST(contains(help.out, "ferryd restore --from BACKUP_DIR --dir NEW_DIR"), help.out);
    BOOST_TEST(contains(ferryd({"--help"}).out, "ferryd backup --config"));
}
