// Metrics: counters and latency sums kept by ferryd and rendered in the Prometheus text
// exposition format on /metrics. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace ferry::server {

class Metrics {
  public:
    void record_request(const std::string& route, int status, double seconds);
    void add_bytes_served(std::uint64_t bytes);
    std::string render() const;

  private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, std::uint64_t> requests_;    // (route, status) -> count
    std::map<std::string, std::pair<double, std::uint64_t>> latency_;  // route -> (sum, count)
    std::uint64_t bytes_served_ = 0;
};

}  // namespace ferry::server
