// Distribution points as the site knows them (DESIGN §2, §9): registered by an admin, each
// with its own token (shown once, stored hashed), revocable. A DP's token carries the dp role:
// it reads content (objects, signed policies, the feed), reports itself (its heartbeat) and
// relays its clients' reports, and nothing else. The DP's own server is server/dp_node*.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "user_service.h"

namespace ferry::server {

struct DistributionPoint {
    std::string name;
    std::string created_by;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> revoked_at;
    std::optional<std::int64_t> last_seen_at;
    std::string url;         // where its clients reach it, as it last reported
    std::string report;      // its last heartbeat's figures (JSON object text), or empty
    std::string collection;  // the collection whose clients it serves, or empty
    std::string schedule;    // its replication rate schedule (include/ferry/throttle.h)
    bool replica = false;    // holds the whole library, not only what is advertised
};

class DpStore {
  public:
    virtual ~DpStore() = default;
    // Error(AlreadyExists) for a taken name.
    virtual void add(const DistributionPoint& dp, const std::string& token_digest,
                     const ChangeLogEntry& entry) = 0;
    virtual std::vector<DistributionPoint> list() = 0;
    virtual bool revoke(const std::string& name, std::int64_t at, const ChangeLogEntry& entry) = 0;
    // The active DP with this token digest; records the contact.
    virtual std::optional<DistributionPoint> find_active(const std::string& token_digest,
                                                         std::int64_t now) = 0;
    virtual std::optional<DistributionPoint> find(const std::string& name) = 0;
    // Its address and figures; a new address is logged and re-issues its clients' policies.
    virtual void record_report(const std::string& name, const std::string& url,
                               const std::string& report, std::int64_t now,
                               const std::optional<ChangeLogEntry>& url_changed) = 0;
    // The collection it serves (empty: none); both old and new members get new policies.
    // Error(NotFound) for an unknown collection.
    virtual void assign(const std::string& name, const std::string& collection,
                        const ChangeLogEntry& entry) = 0;
    virtual void set_schedule(const std::string& name, const std::string& schedule,
                              const ChangeLogEntry& entry) = 0;
    virtual void set_replica(const std::string& name, bool replica,
                             const ChangeLogEntry& entry) = 0;
    // Whether the (active) DP `name` serves the client: a member of its assigned collection.
    virtual bool serves(const std::string& name, std::int64_t client_id) = 0;
};

class DpService {
  public:
    DpService(DpStore& store, Clock clock) : store_(store), clock_(std::move(clock)) {}

    // Admin; returns the DP's token (shown once).
    std::string add(const Principal& admin, const std::string& name);
    std::vector<DistributionPoint> list(const Principal& reader);
    void revoke(const Principal& admin, const std::string& name);
    // From "Bearer dp_…": Principal{"dp:NAME", DistributionPoint}. Error(Unauthenticated).
    Principal authenticate(const std::string& authorization);

    // The name of the distribution point `dp` authenticates as; Error(Forbidden) "only a
    // distribution point WHAT" for any other caller (people, clients).
    static std::string require_dp(const Principal& dp, const std::string& what);
    // The DP's own heartbeat (dp role): its address and figures. Returns what the site wants it
    // to know (its schedule, whether it is a replica).
    DistributionPoint report(const Principal& dp, const std::string& url,
                             const std::string& figures);
    DistributionPoint show(const Principal& reader, const std::string& name);
    void assign(const Principal& admin, const std::string& name, const std::string& collection);
    void set_schedule(const Principal& admin, const std::string& name, const std::string& schedule);
    void set_replica(const Principal& admin, const std::string& name, bool replica);
    // The replication rate the DP's schedule allows now, in bytes per second (kUnlimited, 0
    // when paused), by the site's clock and time zone: what its throughput is measured against.
    double scheduled_rate(const DistributionPoint& dp) const;

  private:
    DpStore& store_;
    Clock clock_;
};

}  // namespace ferry::server
