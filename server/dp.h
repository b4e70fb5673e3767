// Distribution points as the site knows them (DESIGN §2, §9): registered by an admin, each
// with its own token (shown once, stored hashed), revocable. A DP's token carries the dp role:
// it reads content (objects, signed policies, the feed) and nothing else. Replication itself
// comes with the distribution-point issue.
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

  private:
    DpStore& store_;
    Clock clock_;
};

}  // namespace ferry::server
