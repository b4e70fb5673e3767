// The web console (console/, served by ferryd at /console/) in a real browser, against the
// demo's site: scripts/run.sh --stay runs a whole release cycle on loopback and keeps the site,
// the DP and 4 agents up; this test adds a viewer and a rollout that halted by itself, then runs
// tests/browser/console.test.mjs (Node.js, playwright-core, Debian's Chromium), which signs in,
// reads every page, compares what it shows with the REST API, resumes and halts the rollout,
// checks what a viewer may not do, and saves a screenshot of every page in
// BUILD/console-screenshots. At the end the demo is stopped and nothing it or the browser
// started may be left running.
//
// Then tests/browser/firefox.test.mjs (puppeteer-core over WebDriver BiDi, Debian's firefox-esr)
// shows the same pages work in Firefox.
//
// What it needs beyond the build: chromium (/usr/bin/chromium, or FERRY_CHROMIUM), firefox-esr
// (/usr/bin/firefox-esr, or FERRY_FIREFOX), node, and tests/browser/node_modules;
// ./scripts/test.sh installs them all.
#define BOOST_TEST_MODULE browser_console
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ferry/json.h"
#include "leftover_processes.h"
#include "run_process.h"
#include "temp_dir.h"

using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

const std::string kSourceDir = FERRY_SOURCE_DIR;
const std::string kBrowserDir = kSourceDir + "/tests/browser";
const std::string kScreenshotDir = FERRY_SCREENSHOT_DIR;
const std::string kSetupHint =
    "run ./scripts/test.sh (it installs chromium, firefox-esr, Node.js and "
    "tests/browser's npm packages), or by hand: apt-get install "
    "chromium firefox-esr nodejs npm && (cd tests/browser && npm ci)";

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// A program in its own process group (so that a signal reaches whatever it started that stays
// in the group: the demo script's helpers, node and its Chromium), stdout and stderr together
// in a file. Whatever happens, the destructor stops the group: SIGTERM, then SIGKILL after 30 s.
class GroupProcess {
  public:
    GroupProcess(const std::vector<std::string>& argv, std::string output_path,
                 const std::string& working_dir = "")
        : output_path_(std::move(output_path)) {
        const int fd = ::open(output_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) throw std::runtime_error("cannot write " + output_path_);
        const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            ::setpgid(0, 0);
            // Signals as a terminal's program has them: none ignored (so that bash may trap
            // SIGINT), none blocked.
            for (int s = 1; s < NSIG; ++s)
                if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
            sigset_t none;
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            ::dup2(null_fd, 0);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            if (!working_dir.empty() && ::chdir(working_dir.c_str()) != 0) ::_exit(127);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
        ::setpgid(pid_, pid_);  // as the child does: whichever runs first
        ::close(fd);
        ::close(null_fd);
    }
    ~GroupProcess() {
        try {
            stop(30s);
        } catch (...) {
        }
    }
    GroupProcess(const GroupProcess&) = delete;
    GroupProcess& operator=(const GroupProcess&) = delete;

    std::string output() const { return slurp(output_path_); }
    pid_t group() const { return pid_; }

    // Waits until the output holds `needle`; throws if the program ends first or after `limit`.
    void wait_for_text(const std::string& needle, std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            if (contains(output(), needle)) return;
            if (finished())
                throw std::runtime_error("exited (" + std::to_string(exit_code_) +
                                         ") before printing \"" + needle + "\":\n" + output());
            if (std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("no \"" + needle + "\" after " +
                                         std::to_string(limit.count() / 1000) + " s:\n" + output());
            std::this_thread::sleep_for(100ms);
        }
    }

    // True once the program (the group's leader) has exited; reaps it.
    bool finished() {
        if (reaped_) return true;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            reaped_ = true;
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        return reaped_;
    }

    // The exit code (128 + N when killed by signal N), or nullopt-like -1 after `limit`.
    int wait(std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!finished()) {
            if (std::chrono::steady_clock::now() > deadline) return -1;
            std::this_thread::sleep_for(50ms);
        }
        return exit_code_;
    }

    void signal_group(int signal_number) { ::kill(-pid_, signal_number); }
    void signal_leader(int signal_number) {
        if (!finished()) ::kill(pid_, signal_number);
    }

    // True while any process of the group is alive (a zombie leader counts until reaped).
    bool group_alive() const { return ::kill(-pid_, 0) == 0 || errno != ESRCH; }

    // As Ctrl-C does, SIGINT to the group; after `grace`, SIGTERM to the leader; 10 s later,
    // SIGKILL to what is left of the group. The exit code, as wait() gives it.
    int stop(std::chrono::milliseconds grace) {
        if (!finished()) {
            signal_group(SIGINT);
            if (wait(grace) < 0) {
                signal_leader(SIGTERM);
                if (wait(10s) < 0) {
                    signal_group(SIGKILL);
                    wait(10s);
                }
            }
        }
        if (group_alive()) signal_group(SIGKILL);
        return exit_code_;
    }

  private:
    std::string output_path_;
    pid_t pid_ = -1;
    bool reaped_ = false;
    int exit_code_ = -1;
};

// ferryctl against the demo's site, as the holder of `token`; throws with its output on failure.
std::string ferryctl(const std::string& site, const std::string& token,
                     const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/env", "FERRY_SERVER=" + site, "FERRY_TOKEN=" + token,
                                     FERRYCTL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    const ProcessResult r = run_process(argv);
    if (r.exit_code != 0) {
        std::string shown;
        for (const auto& a : args) shown += " " + a;
        throw std::runtime_error("ferryctl" + shown + ": exit " + std::to_string(r.exit_code) +
                                 "\n" + r.out + r.err);
    }
    return r.out;
}

Poco::JSON::Object::Ptr json(const std::string& text, const std::string& what) {
    return ferry::json::parse_object(text, what, 10'000'000);
}

std::string first_match(const std::string& text, const std::string& pattern) {
    std::smatch m;
    if (!std::regex_search(text, m, std::regex(pattern)))
        throw std::runtime_error("no /" + pattern + "/ in:\n" + text);
    return m[1].str();
}

// A user of ROLE named NAME; its token.
std::string add_user(const std::string& site, const std::string& admin, const std::string& name,
                     const std::string& role) {
    const auto created =
        json(ferryctl(site, admin, {"user", "add", name, "--role", role, "--json"}), "user add");
    return created->getValue<std::string>("token");
}

// The rollouts in STATE, oldest first.
std::vector<std::string> rollouts_in(const std::string& site, const std::string& token,
                                     const std::string& state) {
    std::vector<std::string> ids;
    const auto list = json(ferryctl(site, token, {"rollout", "list", "--json"}), "rollout list");
    const auto rollouts = list->getArray("rollouts");
    for (std::size_t i = 0; i < rollouts->size(); ++i) {
        const auto rollout = rollouts->getObject(static_cast<unsigned>(i));
        if (rollout->getValue<std::string>("state") == state)
            ids.push_back(rollout->getValue<std::string>("id"));
    }
    return ids;
}

// A rollout that halted by itself, as the demo's broken 1.0 did: the demo cancels broken's
// release once its rollout halted, so this makes another — an RFC approved by a CAB member, a
// release carrying broken@1.0 in testing, a rollout whose pilot wave fails the health check.
std::string halted_rollout(const std::string& site, const std::string& admin) {
    auto halted = rollouts_in(site, admin, "halted");
    if (!halted.empty()) return halted.front();
    const std::string cab = add_user(site, admin, "cora", "cab");
    const std::string rfc = first_match(
        ferryctl(site, admin,
                 {"rfc", "create", "--title", "Try the broken tool again", "--risk", "low"}),
        "^(RFC-[0-9]+) ");
    ferryctl(site, cab, {"rfc", "approve", rfc, "--reason", "one more pilot"});
    const std::string release =
        first_match(ferryctl(site, admin,
                             {"release", "create", "--title", "broken 1.0, second try", "--rfc",
                              rfc, "--package", "broken@1.0", "--priority", "low"}),
                    "^(REL-[0-9]+-[0-9]+) ");
    ferryctl(site, admin, {"release", "transition", release, "building"});
    ferryctl(site, admin, {"release", "transition", release, "testing"});
    const std::string rollout =
        first_match(ferryctl(site, admin,
                             {"rollout", "create", "broken@1.0", "--collection", "workstations",
                              "--waves", "pilots,50%", "--error", "10", "--mandatory"}),
                    "(RO-[0-9]+)");
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    for (;;) {
        halted = rollouts_in(site, admin, "halted");
        if (!halted.empty()) return halted.front();
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error(rollout + " did not halt:\n" +
                                     ferryctl(site, admin, {"rollout", "show", rollout}));
        std::this_thread::sleep_for(300ms);
    }
}

// The first release's reference (hello 1.0, deployed).
std::string first_release(const std::string& site, const std::string& token) {
    const auto list = json(ferryctl(site, token, {"release", "list", "--json"}), "release list");
    return list->getArray("releases")->getObject(0)->getValue<std::string>("reference");
}

std::string seconds_since(std::chrono::steady_clock::time_point start) {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
            .count());
}

}  // namespace

BOOST_AUTO_TEST_CASE(TheConsoleInChromiumAgreesWithTheApiAndStopsWhatItStarts) {
    // What the browser side needs: missing is a failure that says how to fix it, not a skip.
    const char* chromium_env = std::getenv("FERRY_CHROMIUM");
    const std::string chromium = chromium_env && *chromium_env ? chromium_env : "/usr/bin/chromium";
    BOOST_REQUIRE_MESSAGE(::access(chromium.c_str(), X_OK) == 0,
                          "no Chromium at " << chromium << "; " << kSetupHint);
    BOOST_REQUIRE_MESSAGE(have_program("node"), "node is not on PATH; " << kSetupHint);
    BOOST_REQUIRE_MESSAGE(path_exists(kBrowserDir + "/node_modules/playwright-core/package.json"),
                          "tests/browser/node_modules/playwright-core is missing; " << kSetupHint);
    const char* firefox_env = std::getenv("FERRY_FIREFOX");
    const std::string firefox_path =
        firefox_env && *firefox_env ? firefox_env : "/usr/bin/firefox-esr";
    BOOST_REQUIRE_MESSAGE(::access(firefox_path.c_str(), X_OK) == 0,
                          "no Firefox at " << firefox_path << "; " << kSetupHint);
    BOOST_REQUIRE_MESSAGE(path_exists(kBrowserDir + "/node_modules/puppeteer-core/package.json"),
                          "tests/browser/node_modules/puppeteer-core is missing; " << kSetupHint);

    const auto started = std::chrono::steady_clock::now();
    TempDir dir;
    const std::string out = dir / "demo";
    {
        GroupProcess demo({"/usr/bin/env", std::string("FERRY_DEMO_BUILD=") + FERRY_BINARY_DIR,
                           "FERRY_DEMO_OUT=" + out, "FERRY_DEMO_AGENTS=4", "bash",
                           kSourceDir + "/scripts/run.sh", "--stay"},
                          dir / "demo.txt");
        demo.wait_for_text("demo complete", 300s);
        BOOST_TEST_MESSAGE("the demo was up after " << seconds_since(started) << " s");
        const std::string site =
            first_match(demo.output(), "\n +site +(http://127\\.0\\.0\\.1:[0-9]+) ");
        std::string init = slurp(out + "/site-init.txt");
        while (!init.empty() && init.back() == '\n') init.pop_back();
        const std::string admin = init.substr(init.rfind('\n') + 1);
        BOOST_REQUIRE_MESSAGE(admin.rfind("admin_", 0) == 0, "no admin token in site-init.txt");

        // The demo already has a viewer (vera) whose token it does not print: another one.
        const std::string viewer_name = "vic";
        const std::string viewer = add_user(site, admin, viewer_name, "viewer");
        const std::string halted = halted_rollout(site, admin);
        const std::string release = first_release(site, admin);
        BOOST_TEST_MESSAGE("site " << site << ", halted rollout " << halted << ", release "
                                   << release << "; after " << seconds_since(started) << " s");

        std::filesystem::remove_all(kScreenshotDir);  // this run's screenshots only
        std::filesystem::create_directories(kScreenshotDir);
        GroupProcess node(
            {"/usr/bin/env", "FERRY_CONSOLE_URL=" + site + "/console/",
             "FERRY_ADMIN_TOKEN=" + admin, "FERRY_VIEWER_TOKEN=" + viewer,
             "FERRY_VIEWER_NAME=" + viewer_name, "FERRY_SCREENSHOT_DIR=" + kScreenshotDir,
             "FERRY_HALTED_ROLLOUT=" + halted, "FERRY_COLLECTION=workstations",
             "FERRY_RELEASE=" + release, "FERRY_DP=edge", "FERRY_HOSTNAMES=ws-01,ws-02,ws-03,ws-04",
             "FERRY_CHROMIUM=" + chromium, "node", kBrowserDir + "/console.test.mjs"},
            dir / "node.txt", kBrowserDir);
        // Not a speed limit: only what keeps a hung browser from hanging the suite.
        const int node_exit = node.wait(400s);
        const std::string node_output = node.output();
        if (node_exit == 0) BOOST_TEST_MESSAGE("console.test.mjs:\n" << node_output);
        BOOST_TEST(node_exit == 0, "console.test.mjs "
                                       << (node_exit < 0 ? std::string("did not finish in 400 s")
                                                         : "exited " + std::to_string(node_exit))
                                       << "; its output:\n"
                                       << node_output << "screenshots: " << kScreenshotDir);
        node.stop(10s);
        // The same pages in Firefox (firefox.test.mjs), against the same site.
        GroupProcess firefox(
            {"/usr/bin/env", "FERRY_CONSOLE_URL=" + site + "/console/",
             "FERRY_ADMIN_TOKEN=" + admin, "FERRY_VIEWER_TOKEN=" + viewer,
             "FERRY_VIEWER_NAME=" + viewer_name, "FERRY_SCREENSHOT_DIR=" + kScreenshotDir,
             "FERRY_HALTED_ROLLOUT=" + halted, "FERRY_COLLECTION=workstations",
             "FERRY_RELEASE=" + release, "FERRY_DP=edge", "FERRY_FIREFOX=" + firefox_path, "node",
             kBrowserDir + "/firefox.test.mjs"},
            dir / "firefox.txt", kBrowserDir);
        const int firefox_exit = firefox.wait(300s);
        const std::string firefox_output = firefox.output();
        if (firefox_exit == 0) BOOST_TEST_MESSAGE("firefox.test.mjs:\n" << firefox_output);
        BOOST_TEST(firefox_exit == 0,
                   "firefox.test.mjs "
                       << (firefox_exit < 0 ? std::string("did not finish in 300 s")
                                            : "exited " + std::to_string(firefox_exit))
                       << "; its output:\n"
                       << firefox_output << "screenshots: " << kScreenshotDir);
        firefox.stop(10s);
        for (GroupProcess* browser : {&node, &firefox}) {
            // node closed its browser: nothing of its group may be left.
            const auto until = std::chrono::steady_clock::now() + 10s;
            while (browser->group_alive() && std::chrono::steady_clock::now() < until)
                std::this_thread::sleep_for(100ms);
            BOOST_TEST(!browser->group_alive(), "a browser is still running (killed now)");
            if (browser->group_alive()) ::kill(-browser->group(), SIGKILL);
        }

        // Stopped as Ctrl-C stops it (SIGINT to its process group): the demo stops the site,
        // the DP and the agents, and exits 0.
        const int demo_exit = demo.stop(30s);
        BOOST_TEST(demo_exit == 0, "the demo exited " << demo_exit << " on SIGINT:\n"
                                                      << demo.output());
    }
    const auto left = left_after(out, 10s);
    BOOST_TEST(left.empty(), "still running:\n" << joined(left));
    for (const auto& line : left) ::kill(std::stoi(line.substr(0, line.find(':'))), SIGKILL);
    BOOST_TEST_MESSAGE("browser_console took " << seconds_since(started) << " s");
}
