// A release's deployment results (DESIGN §6, PROCESS.md §5 "record results … against the
// release"): every advertisement of the release with its counts per state, its rollout's waves
// and failures, rollbacks, and how long the deployment took. Shown by `ferryctl release report`
// and kept with the post-deployment review when the release is closed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "advertisement.h"
#include "rollout.h"

namespace ferry::server {

struct ReleaseReport {
    std::string reference;
    std::string state;
    std::optional<std::int64_t> started_at;   // the first advertisement
    std::optional<std::int64_t> finished_at;  // the last rollout's completion, when all are
    struct Entry {
        Advertisement advertisement;
        StatusReport status;  // counts and targeted (no per-client rows)
        std::optional<RolloutReport> rollout;
    };
    std::vector<Entry> entries;
    std::int64_t succeeded = 0;
    std::int64_t failed = 0;       // failed, refused
    std::int64_t rolled_back = 0;  // the health check failed and the agent went back
};

class ReleaseReporter {
  public:
    ReleaseReporter(AdvertisementStore& ads, RolloutStore& rollouts)
        : ads_(ads), rollouts_(rollouts) {}
    // Any user role. The release must exist (the caller checks; an unknown one has no entries).
    ReleaseReport report(const Principal& reader, const std::string& reference,
                         const std::string& state);

  private:
    AdvertisementStore& ads_;
    RolloutStore& rollouts_;
};

// The report as JSON (docs/api.md, "Release report").
std::string release_report_json(const ReleaseReport& report);

}  // namespace ferry::server
