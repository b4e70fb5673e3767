// SiteServer: ferryd's HTTP front for the site role. It owns the listening socket (HTTPS when
// configured), the HttpFront (idle polls answered on its loops, the rest by Poco's handlers), the
// database connection pool and the policy worker; requests are routed to small handlers (the
// routes: docs/api.md), and every answer is counted in Metrics.
#pragma once

#include <cstdint>
#include <memory>

#include "connection_pool.h"
#include "http_front.h"
#include "inventory_writer.h"
#include "last_contact_writer.h"
#include "metrics.h"
#include "policy_worker.h"
#include "site_config.h"
#include "software_ids.h"
#include "wal_checkpointer.h"

namespace ferry::server {

class SiteServer {
  public:
    // Binds the configured address (port 0: any free port). Refuses plain HTTP on anything but
    // loopback with Error(InvalidInput); see listen_socket.h.
    explicit SiteServer(SiteConfig config);
    ~SiteServer();

    void start();
    // Stops accepting, lets requests in progress finish.
    void stop();
    std::uint16_t port() const;
    // Where the console's files are served from ("" when not installed).
    const std::string& console_dir() const { return config_.console_dir; }

  private:
    static constexpr std::size_t kMaxThreads = 16;
    SiteConfig config_;
    PolicyWorker worker_;
    ConnectionPool pool_;
    Metrics metrics_;
    WalCheckpointer checkpointer_{config_.database_path()};  // the request connections' log
    LastContactWriter contacts_{config_.database_path()};    // clients' last contact
    InventoryWriter inventory_writer_{config_.database_path()};
    SoftwareIds software_ids_;  // inventory's software entries, for every connection
    std::unique_ptr<HttpFront> front_;
};

}  // namespace ferry::server
