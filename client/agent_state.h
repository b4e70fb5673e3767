// AgentState: everything the agent remembers, in one SQLite database (DESIGN §8): the
// enrolment and pinned site key, the last accepted policy, what it knows of each
// advertisement, the versions installed, the install journal, the status outbox and the last
// inventory the site acknowledged. Every change that spans rows is one transaction, so a kill
// at any point leaves a state the next start can reason about.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferry/sqlite.h"

namespace ferry::agent {

struct Enrolment {
    std::string server;
    std::string client_id;
    std::string token;
    std::string site_public_key;  // base64 line of the site's minisign key, pinned at enrolment
    std::int64_t enrolled_at = 0;
    std::string state;  // active or pending, as the site answered the enrolment (not stored)
};

struct StoredPolicy {
    std::uint64_t version = 0;
    std::string digest;  // BLAKE2b-256 of the policy JSON
    std::string json;
    std::string signature;
    std::string etag;
    std::int64_t accepted_at = 0;
};

// The agent's memory of one advertisement.
struct AdvertisementRecord {
    std::string id;
    std::string state;  // the last status reported for it ("" before any)
    std::string detail;
    int postpones_used = 0;
    std::int64_t postponed_until = 0;
    std::int64_t postponed_total_s = 0;
    bool user_requested = false;
    int attempts = 0;          // installs interrupted (by a kill) so far; retried up to a limit
    std::string done_object;   // object id the final state (installed, rolled-back…) is about
    std::int64_t next_at = 0;  // when the scheduler wants to look again
};

// One version of a package on disk: the current one, or the previous one kept for rollback.
struct InstalledVersion {
    std::string name;
    std::string version;
    std::string object_id;
    std::string manifest_json;  // the package manifest, to re-check the tree before a rollback
    std::string signature;      // the publisher's .minisig text
    std::string role;           // "current" | "previous"
    std::string advertisement;
    std::int64_t installed_at = 0;
};

// An operation in progress; see installer.h for the steps.
struct JournalEntry {
    std::int64_t id = 0;
    std::string operation;  // install | uninstall | rollback
    std::string package;
    std::string from_version;  // "" when nothing was installed
    std::string to_version;    // "" for uninstall
    std::string advertisement;
    std::string step;
    std::int64_t started_at = 0;
};

struct StatusMessage {
    std::int64_t seq = 0;
    std::string advertisement;
    std::string state;
    std::optional<int> exit_code;
    std::string log_tail;
    std::int64_t at = 0;
};

struct CachedObject {
    std::string object_id;
    std::string package;
    std::string version;
    std::uint64_t size = 0;
    std::int64_t last_used = 0;
};

class AgentState {
  public:
    // Opens (creating) the database; the directory must exist.
    explicit AgentState(const std::string& path);

    sql::Database& db() { return db_; }

    std::optional<Enrolment> enrolment();
    void save_enrolment(const Enrolment& enrolment);

    std::optional<StoredPolicy> policy();
    void save_policy(const StoredPolicy& policy);
    // Small named values ("" when unset).
    std::string meta(const std::string& key);
    void set_meta(const std::string& key, const std::string& value);

    // Remembers why the last policy offered was refused (empty: none refused since).
    void set_policy_refusal(const std::string& reason, std::int64_t at);
    std::pair<std::string, std::int64_t> policy_refusal();

    std::optional<AdvertisementRecord> advertisement(const std::string& id);
    std::vector<AdvertisementRecord> advertisements();
    void save_advertisement(const AdvertisementRecord& record);

    std::vector<InstalledVersion> versions(const std::string& package);
    std::optional<InstalledVersion> version(const std::string& package, const std::string& role);
    std::vector<InstalledVersion> all_versions();
    // Replaces the package's rows by `rows` (in the caller's transaction).
    void set_versions(const std::string& package, const std::vector<InstalledVersion>& rows);

    std::optional<JournalEntry> open_journal();
    std::int64_t begin_journal(const JournalEntry& entry);
    void journal_step(std::int64_t id, const std::string& step);
    void end_journal(std::int64_t id);

    // Appends a status message; returns its sequence number.
    std::int64_t queue_status(const StatusMessage& message);
    std::vector<StatusMessage> unsent_status(std::size_t limit);
    void mark_sent(std::int64_t up_to_seq);
    // Deletes acknowledged messages but the newest `keep`, so the outbox does not only grow.
    void prune_outbox(std::int64_t keep);
    std::int64_t unsent_count();

    std::vector<CachedObject> cached_objects();
    void touch_cached(const CachedObject& object);
    void forget_cached(const std::string& object_id);

    // The last inventory the site acknowledged and its sequence (0: none yet).
    std::pair<std::int64_t, std::string> reported_inventory();
    void save_reported_inventory(std::int64_t seq, const std::string& json);
    std::int64_t next_inventory_seq();

  private:
    sql::Database db_;
};

}  // namespace ferry::agent
