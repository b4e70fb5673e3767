// Advertisements (DESIGN §7): a package version offered or required on a collection, with a
// schedule, postpone rules and maintenance windows, under the release gates of DESIGN §6:
// only packages carried by a release; pilot collections from `testing`, production ones only
// from `ready` (the first production advertisement moves a ready release to `deploying`).
// Clients report status per advertisement; resends are ignored by their outbox sequence.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client.h"
#include "rollout.h"
#include "user_service.h"

namespace ferry::server {

struct Advertisement {
    std::int64_t id = 0;  // shown as ADV-0001
    std::string package;
    std::string version;
    std::string release;     // REL-YYYY-NNNN
    std::string collection;  // name
    std::string action = "install";
    std::int64_t available_at = 0;
    std::optional<std::int64_t> deadline;
    bool mandatory = false;
    int postpone_max = 0;
    std::int64_t postpone_max_delay_s = 0;
    std::vector<std::string> windows;
    std::string state = "active";  // active | halted | cancelled
    std::string created_by;
    std::int64_t created_at = 0;
    std::int64_t rollout_id = 0;  // 0: everyone in the collection at once; else its waves
};

std::string advertisement_number(std::int64_t id);  // 7 -> "ADV-0007"
std::optional<std::int64_t> parse_advertisement_number(const std::string& text);

// Checks a maintenance window: DAYS HH:MM-HH:MM, DAYS one of "daily", a day (Mon … Sun), a range
// (Mon-Fri) or a comma list (Sat,Sun); the window may cross midnight. Error(InvalidInput).
void check_window(const std::string& window);

// What the gates need to know, read in one go.
struct AdvertisementTarget {
    std::int64_t package_version_id = 0;
    bool retired = false;
    std::int64_t collection_id = 0;
    bool pilot = false;
    // Releases that carry the package version: reference -> state.
    std::map<std::string, std::string> releases;
};

struct StatusMessage {
    std::int64_t seq = 0;
    std::int64_t advertisement_id = 0;
    std::string state;
    std::optional<std::int64_t> exit_code;
    std::string log_tail;
    std::int64_t at = 0;
};

struct StatusReport {
    std::map<std::string, std::int64_t> counts;  // state -> clients
    std::int64_t targeted = 0;                   // members of the collection now
    struct Row {
        std::string client;
        std::string hostname;
        std::string state;
        std::optional<std::int64_t> exit_code;
        std::string log_tail;
        std::int64_t at = 0;
    };
    std::vector<Row> clients;
};

class AdvertisementStore {
  public:
    virtual ~AdvertisementStore() = default;
    // Error(NotFound) naming the package or the collection.
    virtual AdvertisementTarget target(const std::string& package, const std::string& version,
                                       const std::string& collection) = 0;
    // Adds it (with its rollout and waves when `rollout` is given), marks the collection's
    // members for a policy rebuild, queues its object on the feed, moves the release to
    // deploying when `start_deploying`, and logs — together.
    virtual std::int64_t create(const Advertisement& ad, std::int64_t package_version_id,
                                std::int64_t collection_id, bool start_deploying,
                                const RolloutPlan* rollout,
                                const std::vector<ChangeLogEntry>& entries) = 0;
    virtual std::optional<Advertisement> find(std::int64_t id) = 0;
    virtual std::vector<Advertisement> list() = 0;
    virtual bool set_state(std::int64_t id, const std::string& from, const std::string& to,
                           const ChangeLogEntry& entry) = 0;
    // Stores new messages (by client and seq; resends ignored) and the latest state per client
    // and advertisement. Error(NotFound) for an unknown advertisement. Returns how many were new.
    virtual std::int64_t add_status(std::int64_t client_id,
                                    const std::vector<StatusMessage>& messages,
                                    std::int64_t received_at) = 0;
    virtual StatusReport report(std::int64_t id, int client_limit) = 0;
};

struct NewAdvertisement {
    std::string package;
    std::string version;
    std::string collection;
    std::optional<std::string> release;  // needed only when several releases carry the package
    std::string action = "install";
    std::optional<std::int64_t> available_at;  // default: now (ASAP)
    std::optional<std::int64_t> deadline;
    bool mandatory = false;
    int postpone_max = 0;
    std::int64_t postpone_max_delay_s = 0;
    std::vector<std::string> windows;
    // In waves (resolved by RolloutService::resolve); the gates then apply to the first wave,
    // and each later wave passes them when it starts.
    std::optional<RolloutPlan> rollout;
};

constexpr std::size_t kMaxStatusBatch = 1000;

class AdvertisementService {
  public:
    AdvertisementService(AdvertisementStore& store, Clock clock)
        : store_(store), clock_(std::move(clock)) {}

    Advertisement create(const Principal& who, const NewAdvertisement& request);
    Advertisement show(const Principal& reader, std::int64_t id);
    std::vector<Advertisement> list(const Principal& reader);
    // halted <-> active; cancelled is final. Error(Conflict) naming the current state.
    Advertisement change_state(const Principal& who, std::int64_t id, const std::string& to,
                               const std::string& reason);
    StatusReport report(const Principal& reader, std::int64_t id);
    // From the client itself. Returns how many messages were new.
    std::int64_t report_status(const Client& client, const std::vector<StatusMessage>& messages);

  private:
    AdvertisementStore& store_;
    Clock clock_;
};

bool is_client_state(const std::string& state);

}  // namespace ferry::server
