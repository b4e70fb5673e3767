// The demo (scripts/run.sh, the README's main command) end to end, against this build's binaries
// and into a temporary directory: it must exit 0 having rolled hello out to every agent in
// waves, watched broken halt its own rollout after the pilot rolled it back, and backed a release
// out with every agent back on the previous version — and it must leave nothing running, whether
// it finishes or is stopped halfway.
#define BOOST_TEST_MODULE e2e_demo
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "background_process.h"
#include "leftover_processes.h"
#include "run_process.h"
#include "temp_dir.h"

using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

const std::string kScript = std::string(FERRY_SOURCE_DIR) + "/scripts/run.sh";

std::vector<std::string> demo_command(const std::string& out) {
    return {"/usr/bin/env",
            std::string("FERRY_DEMO_BUILD=") + FERRY_BINARY_DIR,
            "FERRY_DEMO_OUT=" + out,
            "FERRY_DEMO_AGENTS=6",
            "bash",
            kScript};
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(TheDemoRollsOutHaltsAndBacksOutThenLeavesNothingRunning) {
    TempDir dir;
    const std::string out = dir / "demo";
    const auto started = std::chrono::steady_clock::now();
    const ProcessResult demo = run_process(demo_command(out));
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
            .count();
    BOOST_TEST_MESSAGE("the demo took " << seconds << " s");
    BOOST_TEST_REQUIRE(demo.exit_code == 0, "exit " << demo.exit_code << "\n"
                                                    << demo.out << demo.err);
    for (const std::string line :
         {"ok: hello 1.0 installed on all 6 workstations after its waves (RO-0001 completed, "
          "REL-",
          "ok: hello 1.1 installed on all 6 workstations after its waves (RO-0002 completed, ",
          "ok: broken's rollout RO-0003 halted by itself: wave 1: 1 of 1 clients failed (100%), "
          "above the error threshold of 10%",
          "ok: the pilot's agent rolled broken back; no workstation has it",
          "all 6 workstations returned from hello 1.1 to their previous version, 1.0 (RO-0004 "
          "completed)",
          "now: wave 2 (production) waits: ",  // the gate, while testing
          "rolled-back",                       // ferry-agent list on the pilot
          "the health check failed (scripts/check exited with 1)",
          "deployed -> backed-out: 1.1 loses the users' saved greetings",  // the change log
          "6 client(s) match",                                             // the CMDB agrees
          "Signature and comment signature verified",                      // minisign, the policy
          "demo complete"}) {
        BOOST_TEST(contains(demo.out, line), "missing: " << line);
    }
    for (const std::string release :
         {"deployed    high      hello 1.0", "backed-out  high      hello 1.1",
          "cancelled   high      broken 1.0"})
        BOOST_TEST(contains(demo.out, release), "release list: " << release);
    for (int i = 1; i <= 6; ++i) {
        const std::string host = "ws-0" + std::to_string(i);
        BOOST_TEST(contains(demo.out, "    " + host + "  1.1 -> 1.0  Hello from Ferry (hello 1.0)"),
                   host);
        std::error_code ec;
        BOOST_TEST(
            std::filesystem::read_symlink(out + "/agents/" + host + "/root/hello/current", ec)
                .string() == "1.0");
    }
    BOOST_TEST(demo.err.empty(), demo.err);
    const auto left = left_after(out, 5s);
    BOOST_TEST(left.empty(), "still running:\n" << joined(left));
    // The data stays for inspection.
    BOOST_TEST(path_exists(out + "/site/ferry.db"));
    BOOST_TEST(path_exists(out + "/logs/site.log"));
    BOOST_TEST(seconds < 120);
}

BOOST_AUTO_TEST_CASE(StoppedHalfwayItStopsEverythingItStarted) {
    TempDir dir;
    const std::string out = dir / "demo";
    BackgroundProcess demo(demo_command(out));
    // Halfway: the site, the DP and the agents run, and a rollout is being watched.
    demo.wait_for_line("ferryctl rollout watch", 120s);
    BOOST_TEST(running_in(out).size() >= 8u, joined(running_in(out)));
    demo.signal(SIGTERM);  // SIGINT (Ctrl-C) takes the same path, unless the shell ignores it
    BOOST_TEST(demo.wait(30s) == 143);
    const auto left = left_after(out, 5s);
    BOOST_TEST(left.empty(), "still running:\n" << joined(left));
    BOOST_TEST(path_exists(out + "/site/ferry.db"));
}
