// Backing a release out (DESIGN §6–7, PROCESS.md §1 "how the release is removed if it fails"):
// one command returns every client that installed one of the release's packages to the version
// it had before — the last other version of that package it reported installed — or uninstalls
// the package where it had none. The release's own advertisements are cancelled (nobody new
// installs), and for each of them and each version to return to, a backout advertisement goes
// to a static collection of exactly those clients ("backout-adv-nnnn-k", e.g. backout-adv-0002-1), mandatory and at once, in
// the waves and thresholds of the original rollout (or of the request), without release gates.
// The release ends backed-out, with the reason, in the same transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "advertisement.h"
#include "rollout.h"
#include "user_service.h"

namespace ferry::server {

// A client that reported the advertisement installed, and what it had before.
struct InstalledClient {
    std::int64_t client_id = 0;
    std::int64_t previous_version_id = 0;  // 0: nothing before: uninstall
    std::string previous_version;
};

// One backout advertisement to create.
struct BackoutGroup {
    Advertisement original;
    std::int64_t package_version_id = 0;  // what to install; the original's for an uninstall
    std::string action;                   // install | uninstall
    std::string version;                  // installed, or removed
    std::vector<std::int64_t> clients;
    RolloutPlan plan;
};

class BackoutStore {
  public:
    virtual ~BackoutStore() = default;
    virtual std::optional<std::string> release_state(const std::string& reference) = 0;
    // The release's install advertisements, backouts aside, whatever their state.
    virtual std::vector<Advertisement> advertisements(const std::string& reference) = 0;
    virtual std::vector<InstalledClient> installed_clients(const Advertisement& ad) = 0;
    virtual std::int64_t package_version_id(const std::string& name,
                                            const std::string& version) = 0;
    // Everything together: the originals (and their rollouts) cancelled, a collection, an
    // advertisement and a rollout per group, the release backed-out, the change log. Returns
    // the new rollouts' ids.
    virtual std::vector<std::int64_t> apply(const std::string& reference,
                                            const std::string& from_state,
                                            const std::vector<BackoutGroup>& groups,
                                            const std::string& actor, std::int64_t at,
                                            const std::vector<ChangeLogEntry>& entries) = 0;
};

struct BackoutResult {
    std::string release;
    std::vector<std::int64_t> rollouts;
    std::int64_t clients = 0;
};

class BackoutService {
  public:
    BackoutService(BackoutStore& store, RolloutStore& rollouts, Clock clock)
        : store_(store), rollouts_(rollouts), clock_(std::move(clock)) {}

    // Admin and release-manager; a deploying or deployed release; a reason (4000 at most).
    // `plan`: waves and thresholds for every backout rollout instead of the originals'.
    BackoutResult backout(const Principal& who, const std::string& reference,
                          const std::string& reason, const std::optional<RolloutPlan>& plan);

  private:
    BackoutStore& store_;
    RolloutStore& rollouts_;
    Clock clock_;
};

}  // namespace ferry::server
