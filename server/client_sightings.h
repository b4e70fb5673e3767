// ClientSightings: which clients a distribution point has heard from, for the site. A client
// behind a DP polls only the DP, so without this the site would think it silent ("seen in the
// last day" on the console's dashboard). The DP's request handlers note each authenticated
// client; the replicator relays each client at most once a minute (POST /api/v1/dps/relay,
// kind "seen"), which is as fine as the site keeps last_seen_at.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace ferry::server {

class ClientSightings {
  public:
    static constexpr std::int64_t kInterval = 60;  // seconds between two relays of one client

    // A request from `uid` at `now` (thread-safe; called by every handler thread).
    void saw(const std::string& uid, std::int64_t now);
    // Clients seen since they were last relayed, and not relayed within kInterval of `now`:
    // the next to relay, at most `limit` of them.
    std::vector<std::string> due(std::int64_t now, std::size_t limit) const;
    // The parent took them: not due again until they are seen again, kInterval after `now`.
    void relayed(const std::vector<std::string>& uids, std::int64_t now);

  private:
    struct Sighting {
        std::int64_t last_seen = 0;
        std::int64_t last_relayed = 0;  // 0: never
    };
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Sighting> clients_;
};

}  // namespace ferry::server
