// DpNodeState: what a distribution point holds besides its objects, in DIR/dp.db — the position
// in its parent's feed, the clients it may serve (their token digests, from the feed), the
// signed policies exactly as the site served them, and the durable queue of client reports
// waiting to be forwarded (store and forward: accepted here, relayed upstream, deleted only
// once the parent has answered for them).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/sqlite.h"

namespace ferry::server {

struct DpPolicy {
    std::string client_id;
    std::uint64_t version = 0;
    std::string etag;
    std::string envelope;  // the site's answer body, byte for byte
};

struct QueuedReport {
    std::int64_t id = 0;
    std::string client_id;
    std::string kind;  // status | inventory
    std::string body;
    std::int64_t received_at = 0;
};

// An object some stored policy names, with the size that policy declares.
struct WantedObject {
    std::string id;
    std::uint64_t size = 0;
};

class DpNodeState {
  public:
    // Opens (creating and migrating) the database at `path`.
    explicit DpNodeState(const std::string& path);
    // Works on a connection the caller owns (a request's lease from the pool).
    explicit DpNodeState(sql::Database& connection) : db_(&connection) {}
    sql::Database& db() { return *db_; }

    std::int64_t feed_cursor();
    void set_feed_cursor(std::int64_t seq);

    void put_client(const std::string& id, const std::string& token_digest,
                    const std::string& state);
    // The active client whose token hashes to `digest`, if any.
    std::optional<std::string> client_by_digest(const std::string& digest);
    void mark_policy_stale(const std::string& client_id);
    std::vector<std::string> stale_policies(std::size_t limit);

    void put_policy(const DpPolicy& policy);
    // The parent has no policy for this client (revoked, pending, unknown): none is served.
    void put_client_policy_gone(const std::string& client_id);
    std::optional<DpPolicy> policy(const std::string& client_id);
    // Every object the stored policies' advertisements name.
    std::vector<WantedObject> wanted_objects();
    // Every object of the library (from the feed), for a DP that is a replica of it.
    void put_library_object(const std::string& id, std::uint64_t size);
    std::vector<WantedObject> library_objects();

    std::int64_t queue_report(const std::string& client_id, const std::string& kind,
                              const std::string& body, std::int64_t now);
    std::vector<QueuedReport> queued(std::size_t limit);
    void forget_reports(const std::vector<std::int64_t>& ids);
    std::int64_t queue_length();
    // A client whose inventory chain the parent refused: its next change report is answered
    // 409 so that the agent sends a full one.
    void set_needs_full_inventory(const std::string& client_id, bool needs);
    bool needs_full_inventory(const std::string& client_id);

    void set_meta(const std::string& key, const std::string& value);
    std::string meta(const std::string& key);

  private:
    std::unique_ptr<sql::Database> owned_;
    sql::Database* db_;
};

}  // namespace ferry::server
