// Rollouts (DESIGN §7, PROCESS.md §5): an advertisement deployed in waves. Each client of the
// target collection is placed in one wave — the first whose collection holds it, or whose
// percentage its bucket falls under (a hash of rollout and client: deterministic, so a client
// stays in its wave, and late joiners are placed the same way) — and the advertisement reaches
// a client's policy only once its wave has started.
//
// A wave is complete when the share of its clients that succeeded (installed, health check
// passed; uninstalled for an uninstall) reaches the success threshold; the next wave then starts
// by itself, or on a sign-off (`advance`) when the rollout asks for one. The rollout halts by
// itself when the share of a started wave's clients that failed (failed, rolled back, refused)
// passes the error threshold; the halt reaches every client through its policy. A production
// wave (one that is not a pilot collection) starts only while its release is ready or
// deploying; the first one moves a ready release to deploying, and the last wave's completion
// moves it to deployed when no other rollout of it is unfinished.
//
// Knows nothing of HTTP or SQL: RolloutStore persists, RolloutService decides.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "user_service.h"
#include "user_store.h"

namespace ferry::server {

class AdvertisementService;
struct NewAdvertisement;

struct WavePlan {
    std::string collection;  // a collection wave, or empty for a percentage wave
    int percent = 0;         // 1-100: the clients whose bucket is under percent% (cumulative)
    // Resolved by the service:
    std::int64_t collection_id = 0;
    bool pilot = false;  // a pilot collection, or a percentage of a pilot target
};

struct RolloutPlan {
    std::vector<WavePlan> waves;  // in order; a last wave of 100% is added when missing
    int success_threshold = 95;   // % of a wave's clients that succeeded to complete it
    int error_threshold = 10;     // % of a started wave's clients that failed to halt
    bool sign_off = false;        // complete waves wait for `advance` instead of moving on
};

// A wave's clients (still in the target collection) by where they stand.
struct WaveProgress {
    std::int64_t members = 0;
    std::int64_t succeeded = 0;
    std::int64_t failed = 0;
    std::int64_t in_progress = 0;  // reported something, not yet an outcome
};

struct Wave {
    int number = 0;  // 0-based; shown 1-based
    WavePlan plan;
    std::optional<std::int64_t> started_at;
    std::optional<std::int64_t> completed_at;
    std::int64_t failed_accepted = 0;  // failures accepted by a resume (not counted again)
    WaveProgress progress;
};

struct Rollout {
    std::int64_t id = 0;  // shown as RO-0001
    std::int64_t advertisement_id = 0;
    std::string package;
    std::string version;
    std::string action;
    std::string release;     // REL-…
    std::string collection;  // the target
    std::int64_t collection_id = 0;
    bool backout = false;  // part of a release's backout: no release gates apply
    // What places clients in percentage waves: the rollout's id, or for a backout the
    // original's, so that each client is backed out in the wave it was deployed in.
    std::int64_t bucket_seed = 0;
    int success_threshold = 95;
    int error_threshold = 10;
    bool sign_off = false;
    int current_wave = -1;         // the last started wave; -1 before the first starts
    std::string state = "active";  // active | halted | cancelled | completed
    std::string reason;            // why it halted, was cancelled, or what it waits for
    std::string created_by;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> completed_at;
    std::vector<Wave> waves;
};

std::string rollout_number(std::int64_t id);  // 7 -> "RO-0007"
std::optional<std::int64_t> parse_rollout_number(const std::string& text);

// 0-9999, from BLAKE2b of the rollout and the client: uniform and stable.
int rollout_bucket(std::int64_t rollout_id, const std::string& client_uid);
// The wave a client belongs in: the first collection wave it is a member of, or percentage
// wave its bucket is under. The last wave is always 100%, so there is always one.
int wave_for(std::int64_t rollout_id, const std::string& client_uid,
             const std::vector<WavePlan>& waves,
             const std::function<bool(std::int64_t collection_id)>& member_of);

// "pilot" -> collection wave; "25%" -> percentage wave. Error(InvalidInput) naming `field`.
WavePlan parse_wave(const std::string& text, const std::string& field);

// What the rollout should do next, from its waves' progress and its release's state.
struct RolloutStep {
    enum Kind { Nothing, Halt, CompleteWave, StartWave, Complete } kind = Nothing;
    int wave = -1;
    std::string why;  // for the change log, or what it waits for (Nothing)
};
RolloutStep next_step(const Rollout& rollout, const std::string& release_state);

// What `rollout report` shows beyond the rollout itself.
struct FailureGroup {  // failures with the same state and exit code
    std::string state;
    std::optional<std::int64_t> exit_code;
    std::int64_t clients = 0;
    std::string log_tail;                // of the latest one
    std::vector<std::string> hostnames;  // the first few
};
struct ProgressPoint {  // every wave's progress at a moment
    std::int64_t at = 0;
    std::vector<WaveProgress> waves;
};
struct DpStanding {  // a distribution point serving some of the rollout's clients
    std::string name;
    std::string url;
    std::optional<std::int64_t> last_seen_at;
    std::optional<std::int64_t> lag;
    bool synced_since_created = false;  // its last full sync is later than the advertisement
    WaveProgress clients;               // its clients in the rollout (members: all of them)
};
struct RolloutReport {
    Rollout rollout;
    std::vector<std::map<std::string, std::int64_t>> states;  // per wave: state -> clients
    std::vector<FailureGroup> failures;
    std::vector<ProgressPoint> history;
    std::vector<DpStanding> dps;
};

// A client of the target collection not yet placed in a wave, with the wave collections it is
// a member of.
struct UnplacedClient {
    std::int64_t client_id = 0;
    std::string uid;
    std::vector<std::int64_t> collections;
};

class RolloutStore {
  public:
    virtual ~RolloutStore() = default;
    // Resolves a wave's collection: {id, pilot}; nullopt when there is none of that name.
    virtual std::optional<std::pair<std::int64_t, bool>> collection(const std::string& name) = 0;
    // With every wave's progress filled in.
    virtual std::optional<Rollout> find(std::int64_t id) = 0;
    virtual std::optional<Rollout> find_by_advertisement(std::int64_t advertisement_id) = 0;
    virtual std::vector<Rollout> list() = 0;
    // Every rollout that is not cancelled: they place clients that join the target (a
    // completed one too: its waves have all started), and the active ones move.
    virtual std::vector<std::int64_t> live() = 0;
    virtual std::string release_state(const std::string& reference) = 0;
    virtual std::vector<UnplacedClient> unplaced(const Rollout& rollout) = 0;
    // Places clients; those in started waves get a policy rebuild.
    virtual void place(const Rollout& rollout,
                       const std::vector<std::pair<std::int64_t, int>>& client_waves,
                       std::int64_t at) = 0;
    // Marks the wave started (the rollout's current wave), its clients for a policy rebuild,
    // the release deploying when `release_to_deploying`; and logs. False if the rollout moved
    // meanwhile (its current wave is no longer `wave` - 1 or it is not active).
    virtual bool start_wave(const Rollout& rollout, int wave, std::int64_t at,
                            bool release_to_deploying,
                            const std::vector<ChangeLogEntry>& entries) = 0;
    virtual void complete_wave(const Rollout& rollout, int wave, std::int64_t at,
                               const ChangeLogEntry& entry) = 0;
    // Rollout and advertisement state together (halted/active/cancelled/completed), with the
    // reason; the advertisement's audience rebuilds its policies. On resume, each started
    // wave's failures so far are accepted. The release moves to deployed when
    // `release_to_deployed`. False when the rollout was not in `from`.
    virtual bool set_state(const Rollout& rollout, const std::string& from, const std::string& to,
                           const std::string& reason, std::int64_t at, bool release_to_deployed,
                           const std::vector<ChangeLogEntry>& entries) = 0;
    // Whether another rollout of the release is still active or halted.
    virtual bool release_has_unfinished(const std::string& reference,
                                        std::int64_t except_rollout) = 0;
    // Whether another rollout of the release completed.
    virtual bool release_has_completed(const std::string& reference,
                                       std::int64_t except_rollout) = 0;
    // One sample of every wave's progress for the report's history, unless nothing changed
    // since the last one.
    virtual void sample(const Rollout& rollout, std::int64_t at) = 0;
    // Counts per state, failures grouped, the history, and the DPs (docs/api.md).
    virtual RolloutReport report(const Rollout& rollout) = 0;
};

class RolloutService {
  public:
    RolloutService(RolloutStore& store, Clock clock) : store_(store), clock_(std::move(clock)) {}

    // Checks and resolves a plan (waves, thresholds) against the target collection's pilot
    // flag; Error(InvalidInput) naming the field, Error(NotFound) for an unknown collection.
    RolloutPlan resolve(RolloutPlan plan, bool target_pilot) const;

    // The advertisement and its rollout together (through `ads`, which applies the release
    // gates to the first wave). Advertise permission.
    Rollout create(const Principal& who, AdvertisementService& ads, NewAdvertisement request,
                   RolloutPlan plan);
    Rollout show(const Principal& reader, std::int64_t id);
    RolloutReport report(const Principal& reader, std::int64_t id);
    std::vector<Rollout> list(const Principal& reader);
    // halt (active), resume (halted), cancel (active or halted), advance (active: starts the
    // next wave whatever the thresholds say, but not past the release gate).
    Rollout halt(const Principal& who, std::int64_t id, const std::string& reason);
    Rollout resume(const Principal& who, std::int64_t id, const std::string& reason);
    Rollout cancel(const Principal& who, std::int64_t id, const std::string& reason);
    Rollout advance(const Principal& who, std::int64_t id, const std::string& reason);

    // The engine (ferryd's policy worker, and tests with a fake clock): places new clients and
    // takes every step each unfinished rollout is due. Returns how many steps were taken.
    int tick();
    // The same for one rollout.
    int tick_one(std::int64_t id);

  private:
    Rollout find(std::int64_t id);
    Rollout change(const Principal& who, std::int64_t id, const std::string& to,
                   const std::string& reason, const std::string& verb);
    bool start(const Rollout& rollout, int wave, const std::string& actor, const std::string& why);
    int step(std::int64_t id);

    RolloutStore& store_;
    Clock clock_;
};

}  // namespace ferry::server
