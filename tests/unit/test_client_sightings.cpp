// ClientSightings: which clients a DP relays to the site as seen, and how often.
#define BOOST_TEST_MODULE client_sightings
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "client_sightings.h"

using ferry::server::ClientSightings;

BOOST_AUTO_TEST_CASE(AClientIsRelayedOnceAMinuteAndOnlyWhenSeenAgain) {
    ClientSightings sightings;
    BOOST_TEST(sightings.due(1000, 10).empty());
    sightings.saw("cl_a", 1000);
    sightings.saw("cl_b", 1001);
    auto due = sightings.due(1001, 10);
    std::sort(due.begin(), due.end());
    BOOST_TEST(due == (std::vector<std::string>{"cl_a", "cl_b"}));
    BOOST_TEST(sightings.due(1001, 1).size() == 1u);  // the limit holds
    sightings.relayed(due, 1001);
    BOOST_TEST(sightings.due(1001, 10).empty());

    // Seen again within the minute: it waits out the minute, then goes.
    sightings.saw("cl_a", 1030);
    BOOST_TEST(sightings.due(1030, 10).empty());
    BOOST_TEST(sightings.due(1060, 10).empty());
    BOOST_TEST(sightings.due(1061, 10) == (std::vector<std::string>{"cl_a"}));
    // Not seen again: not relayed again, however long.
    BOOST_TEST(sightings.due(5000, 10) == (std::vector<std::string>{"cl_a"}));
    sightings.relayed({"cl_a"}, 5000);
    BOOST_TEST(sightings.due(99999, 10).empty());
    // A relay that failed (relayed() not called) leaves them due.
    sightings.saw("cl_b", 100000);
    BOOST_TEST(sightings.due(100000, 10).size() == 1u);
    BOOST_TEST(sightings.due(100001, 10).size() == 1u);
}

BOOST_AUTO_TEST_CASE(HandlersMayNoteClientsFromManyThreads) {
    ClientSightings sightings;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&sightings, t] {
            for (int i = 0; i < 1000; ++i)
                sightings.saw("cl_" + std::to_string(t * 1000 + i), 10 + i);
        });
    for (auto& thread : threads) thread.join();
    BOOST_TEST(sightings.due(2000, 100000).size() == 8000u);
}
