// DpReplicator: the distribution point's side of replication (DESIGN §9), on a thread of its
// own. Each round it reports itself to the parent (address, objects, bytes, queue, lag), pulls
// the parent's change feed (clients with their token digests, policy versions), fetches the
// policies that changed exactly as the site signed them, pre-stages every object those
// policies' advertisements name (resumable, verified by id, written atomically into the object
// store), removes objects no policy names any more, and forwards the queued client reports.
// A failed round is retried with a growing pause (up to five minutes); nothing is lost.
// Object transfers run under the DP's weekly rate schedule (ferryctl dp schedule), which the
// parent returns with every heartbeat; while the schedule says `paused`, no object is fetched.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "ferry/throttle.h"
#include "site_config.h"

namespace ferry::server {

class ClientSightings;
class DpNodeState;

class DpReplicator {
  public:
    // `sightings`: the clients its server heard from, relayed to the parent (may be null).
    DpReplicator(SiteConfig config, std::string own_url, ClientSightings* sightings = nullptr);
    ~DpReplicator();
    void start();
    void stop();
    // One round; throws what failed (for the loop's log and for tests).
    void sync_once();

  private:
    void run();
    void heartbeat(DpNodeState& state);
    void pull_feed(DpNodeState& state);
    void fetch_policies(DpNodeState& state);
    void fetch_objects(DpNodeState& state);
    void forward_reports(DpNodeState& state);
    void forward_sightings();

    SiteConfig config_;
    std::string own_url_;
    std::string token_;
    ClientSightings* sightings_;
    // Replication bandwidth, set each round from the schedule the site hands out.
    TokenBucket bandwidth_;
    RateSchedule schedule_;
    std::atomic<bool> replica_{false};  // hold every library object (ferryctl dp replica)
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::condition_variable wake_;
    std::thread thread_;
};

}  // namespace ferry::server
