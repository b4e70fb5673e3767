// SiteServer: ferryd's HTTP front for the site role. It owns the listening socket and Poco's
// HTTPServer; requests are routed to small handlers, and every answer is counted in Metrics.
// Routes so far: GET /healthz (the database answers), GET /metrics (Prometheus text).
#pragma once

#include <Poco/Net/HTTPServer.h>

#include <cstdint>
#include <memory>

#include "connection_pool.h"
#include "metrics.h"
#include "policy_worker.h"
#include "site_config.h"

namespace ferry::server {

class SiteServer {
  public:
    // Binds the configured address (port 0: any free port). Refuses plain HTTP on anything but
    // loopback, and TLS, which this build does not serve yet, with Error(InvalidInput).
    explicit SiteServer(SiteConfig config);
    ~SiteServer();

    void start();
    // Stops accepting, lets requests in progress finish.
    void stop();
    std::uint16_t port() const;

  private:
    static constexpr std::size_t kMaxThreads = 16;
    SiteConfig config_;
    PolicyWorker worker_;
    ConnectionPool pool_;
    Metrics metrics_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace ferry::server
