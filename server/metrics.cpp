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

void Metrics::count_connections_with(std::function<Connections()> counter) {
    std::lock_guard<std::mutex> lock(mutex_);
    connections_ = std::move(counter);
}

std::string Metrics::render(const SiteGauges& gauges) const {
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
    auto gauge = [&](const char* name, const char* help, std::int64_t value) {
        out << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n"
            << name << " " << value << "\n";
    };
    gauge("ferryd_objects", "Package objects in the library.", gauges.objects);
    gauge("ferryd_object_bytes", "Bytes of package objects in the library.", gauges.object_bytes);
    out << "# HELP ferryd_clients Enrolled clients, by state.\n# TYPE ferryd_clients gauge\n";
    for (const char* state : {"pending", "active", "revoked"}) {
        const auto it = gauges.clients.find(state);
        out << "ferryd_clients{state=\"" << state << "\"} "
            << (it == gauges.clients.end() ? 0 : it->second) << "\n";
    }
    gauge("ferryd_policies", "Clients holding a signed policy.", gauges.policies);
    gauge("ferryd_policy_versions_issued", "Policy versions signed since the site began.",
          gauges.policies_issued);
    gauge("ferryd_policies_pending", "Clients whose policy is waiting to be rebuilt.",
          gauges.policies_pending);
    gauge("ferryd_advertisements_active", "Advertisements that are active.",
          gauges.advertisements_active);
    const Connections open = connections_ ? connections_() : Connections{};
    out << "# HELP ferryd_http_connections Open HTTP connections: waiting for a request in the "
           "front's loops, or with a handler thread (serving, or queued for one).\n"
        << "# TYPE ferryd_http_connections gauge\n"
        << "ferryd_http_connections{where=\"loop\"} " << open.in_loops << "\n"
        << "ferryd_http_connections{where=\"handler\"} " << open.with_handlers << "\n";
    return out.str();
}

}  // namespace ferry::server
