// DpNodeServer: ferryd in the dp role (DESIGN §2, §9). It serves the clients near it from what
// it replicated — their signed policies exactly as the site signed them (with the site's ETag,
// so an idle poll is a 304 here as at the site) and content-addressed objects (Range, ETag) —
// and it accepts their status and inventory into a durable queue that the replicator forwards
// to the parent. It can forge neither policies nor objects: agents verify both.
//
// Clients authenticate with the token the site gave them; the DP knows only its digest (from
// the parent's feed), as the site does.
#pragma once

#include <memory>

#include "client_sightings.h"
#include "connection_pool.h"
#include "dp_replicator.h"
#include "ferry/throttle.h"
#include "http_front.h"
#include "site_config.h"

namespace ferry::server {

class DpNodeServer {
  public:
    explicit DpNodeServer(SiteConfig config);
    ~DpNodeServer();
    void start();
    void stop();
    std::uint16_t port() const;

  private:
    static constexpr std::size_t kMaxThreads = 16;
    SiteConfig config_;
    ConnectionPool pool_;
    TokenBucket serving_{kUnlimited, 256 * 1024};  // all clients' object bytes together
    ClientSightings sightings_;  // clients heard from, for the site (their polls stay here)
    std::unique_ptr<HttpFront> front_;
    std::unique_ptr<DpReplicator> replicator_;
};

}  // namespace ferry::server
