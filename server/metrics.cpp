#include "metrics.h"

#include <sstream>

namespace ferry::server {

void Metrics::record_request(const std::string& route, int status, double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[{route, status}];
    auto& [sum, count] = latency_[route];
    sum += seconds;
    ++count;
}

void Metrics::add_bytes_served(std::uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    bytes_served_ += bytes;
}

std::string Metrics::render() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::ostringstream out;
    out << "# HELP ferryd_http_requests_total HTTP requests answered, by route and status.\n"
        << "# TYPE ferryd_http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
        out << "ferryd_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second
            << "\"} " << count << "\n";
    }
    out << "# HELP ferryd_http_request_duration_seconds Time spent answering requests, by route.\n"
        << "# TYPE ferryd_http_request_duration_seconds summary\n";
    for (const auto& [route, value] : latency_) {
        out << "ferryd_http_request_duration_seconds_sum{route=\"" << route << "\"} " << value.first
            << "\n"
            << "ferryd_http_request_duration_seconds_count{route=\"" << route << "\"} "
            << value.second << "\n";
    }
    out << "# HELP ferryd_object_bytes_served_total Object bytes sent to clients.\n"
        << "# TYPE ferryd_object_bytes_served_total counter\n"
        << "ferryd_object_bytes_served_total " << bytes_served_ << "\n";
    return out.str();
}

}  // namespace ferry::server
