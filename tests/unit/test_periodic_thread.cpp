// PeriodicThread: runs its task at its interval, and a stop does not wait out the interval.
#define BOOST_TEST_MODULE periodic_thread
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "periodic_thread.h"

using namespace std::chrono_literals;
using ferry::server::PeriodicThread;

BOOST_AUTO_TEST_CASE(RunsTheTaskAtItsInterval) {
    std::atomic<int> runs{0};
    PeriodicThread thread(20ms, [&] { ++runs; });
    thread.start();
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (runs < 3 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
    thread.stop();
    BOOST_TEST(runs.load() >= 3);
    const int after_stop = runs;
    std::this_thread::sleep_for(60ms);
    BOOST_TEST(runs.load() == after_stop);  // not run again once stopped
}

BOOST_AUTO_TEST_CASE(StopWakesItAtOnce) {
    std::atomic<int> runs{0};
    PeriodicThread thread(std::chrono::hours(1), [&] { ++runs; });
    thread.start();
    const auto start = std::chrono::steady_clock::now();
    thread.stop();
    thread.stop();  // idempotent
    const bool prompt = std::chrono::steady_clock::now() - start < std::chrono::minutes(1);
    BOOST_TEST(prompt);
    BOOST_TEST(runs.load() == 0);
}

BOOST_AUTO_TEST_CASE(StoppingOneNeverStartedReturnsAndRunsNothing) {
    std::atomic<int> runs{0};
    PeriodicThread thread(10ms, [&] { ++runs; });
    thread.stop();
    std::this_thread::sleep_for(50ms);
    BOOST_TEST(runs.load() == 0);
}
