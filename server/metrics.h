// Metrics: counters and latency sums kept by ferryd and rendered in the Prometheus text
// exposition format on /metrics. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace ferry::server {

// What the site holds, read from the database when /metrics is scraped.
struct SiteGauges {
    std::int64_t objects = 0;  // package objects in the library
    std::int64_t object_bytes = 0;
    std::map<std::string, std::int64_t> clients;  // state -> count
    std::int64_t policies = 0;                    // clients with a signed policy
    std::int64_t policies_issued = 0;             // policy versions ever issued (the feed)
    std::int64_t policies_pending = 0;            // clients waiting for a rebuild
    std::int64_t advertisements_active = 0;
};

class Metrics {
  public:
    void record_request(const std::string& route, int status, double seconds);
    void add_bytes_served(std::uint64_t bytes);
    std::string render(const SiteGauges& gauges) const;
    // Where render() reads the open HTTP connections from (HttpFront): those waiting for a
    // request in its loops, and those with Poco's handler threads (serving, or queued for one).
    struct Connections {
        std::int64_t in_loops = 0;
        std::int64_t with_handlers = 0;
    };
    void count_connections_with(std::function<Connections()> counter);

  private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, std::uint64_t> requests_;    // (route, status) -> count
    std::map<std::string, std::pair<double, std::uint64_t>> latency_;  // route -> (sum, count)
    std::uint64_t bytes_served_ = 0;
    std::function<Connections()> connections_;
};

}  // namespace ferry::server
