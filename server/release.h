// Releases (DESIGN §6, PROCESS.md): the unit of change that carries approved RFCs and packages
// from planning to closed. ReleaseService holds the state machine, the readiness review and
// the gates; the store persists a release with its links and sign-offs, and every change lands
// in the change log in the same transaction. Knows nothing of HTTP or SQL.
//
//   planning -> building -> testing -> ready -> deploying -> deployed -> closed
//   building, testing, ready, deploying -> suspended -> (back where it was)
//   planning, building, testing, ready, suspended -> cancelled
//   deploying, deployed -> backed-out
//   a no-go on any readiness item: testing -> building, and the next review starts afresh
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "user_service.h"

namespace ferry::server {

// One item of the readiness review and the role that signs it (PROCESS.md §4).
struct ReadinessItem {
    int number = 0;
    const char* text = "";
    Role signer = Role::ReleaseManager;
};
const std::vector<ReadinessItem>& readiness_checklist();

struct SignOff {
    int item = 0;
    std::string decision;  // go | no-go
    std::string signer;
    std::string role;
    std::string note;
    std::int64_t at = 0;
};

struct ReleasePackage {
    std::string name;
    std::string version;
};

struct Release {
    std::int64_t id = 0;
    std::string reference;  // REL-YYYY-NNNN, assigned by the store
    std::string title;
    std::string description;
    std::string priority = "medium";  // low | medium | high | critical
    std::string state = "planning";
    std::string suspended_from;   // the state a suspended release returns to
    int review_round = 1;         // a no-go starts a new round
    std::string closing_review;   // the post-deployment review, required to close
    std::string closing_results;  // the deployment's results when it closed (JSON)
    std::string created_by;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    std::vector<std::int64_t> rfcs;
    std::vector<ReleasePackage> packages;
    std::vector<SignOff> signoffs;  // of the current review round
};

// What the store knows of a package version a release names.
struct PackageStanding {
    bool retired = false;
};

class ReleaseStore {
  public:
    virtual ~ReleaseStore() = default;
    // Assigns id and reference (REL-<year of created_at>-<next number that year>); the release,
    // its links and the log entry together.
    virtual Release create(const Release& release, const ChangeLogEntry& entry) = 0;
    virtual std::optional<Release> find(const std::string& reference) = 0;
    virtual std::vector<Release> list() = 0;
    // Writes state, suspended_from, review_round, closing_review, updated_at and the package
    // links, and the log entry, only if the stored state is still `expected_state`;
    // Error(Conflict) when someone else moved it meanwhile. Closing marks its RFCs implemented.
    virtual void update(const Release& release, const std::string& expected_state,
                        const ChangeLogEntry& entry) = 0;
    // Records a sign-off for the release's round (replacing the signer's earlier one for the
    // item) and the log entries, only while the release is testing (else Error(Conflict)). With
    // `send_back` (a no-go) the same transaction moves it to building and to the next round.
    virtual void sign(const Release& release, const SignOff& signoff,
                      const std::vector<ChangeLogEntry>& entries, bool send_back) = 0;
    virtual std::optional<std::string> rfc_state(std::int64_t rfc_id) = 0;
    virtual std::optional<PackageStanding> package(const ReleasePackage& package) = 0;
};

struct NewRelease {
    std::string title;
    std::string description;
    std::string priority = "medium";
    std::vector<std::int64_t> rfcs;
    std::vector<ReleasePackage> packages;
};

// "hello@1.0" -> {hello, 1.0}; Error(InvalidInput) naming `field` otherwise.
ReleasePackage parse_package_ref(const std::string& text, const std::string& field);

class ReleaseService {
  public:
    // The deployment's results (server/release_report.h) as JSON, kept when a release closes.
    using ResultsProvider = std::function<std::string(const std::string& reference)>;
    ReleaseService(ReleaseStore& store, Clock clock, ResultsProvider results = nullptr)
        : store_(store), clock_(std::move(clock)), results_(std::move(results)) {}

    // Release managers and admins. Every RFC must be approved, every package registered and
    // not retired.
    Release create(const Principal& who, const NewRelease& request);
    Release show(const Principal& who, const std::string& reference);
    std::vector<Release> list(const Principal& who);
    // Adds a package while planning or building (a fixed version after a failed test).
    Release add_package(const Principal& who, const std::string& reference,
                        const ReleasePackage& package);
    // Moves to `target`; Error(Conflict) naming the current state and what is missing.
    // `reason` is required for suspended, cancelled and backed-out, and is the post-deployment
    // review when closing.
    Release transition(const Principal& who, const std::string& reference,
                       const std::string& target, const std::string& reason);
    // A readiness sign-off, by the item's role, while testing. A no-go sends the release back
    // to building and starts a new review round.
    Release review(const Principal& who, const std::string& reference, int item,
                   const std::string& decision, const std::string& note);

    // The items not yet signed "go" in the current round.
    static std::vector<int> items_missing(const Release& release);

  private:
    Release find(const std::string& reference);
    void check_can_manage(const Principal& who, const std::string& action) const;
    std::string missing_for(const Release& release, const std::string& target);
    ReleaseStore& store_;
    Clock clock_;
    ResultsProvider results_;
};

bool is_release_state(const std::string& state);

}  // namespace ferry::server
