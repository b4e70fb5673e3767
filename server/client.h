// Clients (DESIGN §8, issue 3 §6): workstations enrol with a secret an admin created, receive
// their own token, and report inventory — in full first, then as changes. ClientService holds
// the rules; the store persists; nothing here knows HTTP or SQL.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "user_service.h"

namespace ferry::server {

struct EnrolmentSecret {
    std::int64_t id = 0;
    std::string name;
    bool requires_approval = false;
    std::optional<std::int64_t> uses_left;
    std::optional<std::int64_t> expires_at;
    std::string created_by;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> revoked_at;
};

struct Fact {
    std::string key;  // os.name, hw.memory_mb, …
    std::string text;
    std::optional<double> number;  // set when the agent reported a number
};

struct Software {
    std::string name;
    std::string version;
};

struct Client {
    std::int64_t id = 0;
    std::string uid;  // cl_<16 hex>
    std::string hostname;
    std::string state;  // pending | active | revoked
    std::int64_t enrolled_at = 0;
    std::optional<std::int64_t> last_seen_at;
    std::optional<std::int64_t> inventory_at;
    std::int64_t inventory_seq = 0;
    std::vector<Fact> facts;
    std::vector<Software> software;
};

// How many clients there are and how many were heard from lately (the console's dashboard).
struct ClientSummary {
    std::int64_t total = 0, active = 0, pending = 0, revoked = 0;
    std::int64_t seen_last_hour = 0, seen_last_day = 0;
};

// One status report a client sent, as the site received it.
struct ClientReport {
    std::int64_t advertisement_id = 0;
    std::string package;  // name@version
    std::string state;
    std::optional<std::int64_t> exit_code;
    std::string log_tail;
    std::int64_t at = 0;
    std::int64_t received_at = 0;
};

// An inventory report. A full one replaces everything; a change applies on top of `base`,
// the sequence the site last accepted.
struct Inventory {
    bool full = true;
    std::int64_t seq = 0;
    std::int64_t base = 0;
    std::vector<Fact> facts;
    std::vector<std::string> removed_facts;
    std::vector<Software> software;
    std::vector<std::string> removed_software;
};

// What a full report changes in what a client's inventory holds, worked out against the stored
// inventory at sequence `against`. `changes` is a change report: the facts to write and the
// keys to remove, and the packages the store holds no entry for yet. `add_software` and
// `remove_software` are the store's ids of the (name, version) entries the client gains and
// loses. Only an applied report changes a client's inventory, and it raises the sequence, so
// while the stored sequence is still `against` the difference holds.
struct InventoryDiff {
    std::int64_t against = 0;
    Inventory changes;
    std::vector<std::int64_t> add_software, remove_software;
};

// What an applied report changed, for the collection memberships that follow it: the fact keys
// written or removed, the package names a change report named, and the store's ids of the
// software entries a full report added or removed (see InventoryDiff).
struct InventoryChange {
    std::vector<std::string> fact_keys;
    std::vector<std::string> software_names;
    std::vector<std::int64_t> software_entries;
};

constexpr std::size_t kMaxFacts = 1000;
constexpr std::size_t kMaxSoftware = 50000;

struct Enrolment {
    Client client;
    std::string token;  // shown once
};

class ClientStore {
  public:
    virtual ~ClientStore() = default;
    virtual void add_secret(const EnrolmentSecret& secret, const std::string& digest,
                            const ChangeLogEntry& entry) = 0;
    virtual std::vector<EnrolmentSecret> secrets() = 0;
    virtual bool revoke_secret(const std::string& name, std::int64_t at,
                               const ChangeLogEntry& entry) = 0;
    virtual std::optional<EnrolmentSecret> secret_by_digest(const std::string& digest) = 0;
    // Uses the secret once (when limited) and adds the client, with the log entry, together.
    // False when the secret was used up meanwhile.
    virtual bool enrol(const EnrolmentSecret& secret, Client& client,
                       const std::string& token_digest, const ChangeLogEntry& entry) = 0;
    virtual std::optional<Client> by_token_digest(const std::string& digest) = 0;
    virtual std::optional<Client> find(const std::string& uid, bool with_inventory) = 0;
    virtual std::vector<Client> list(int limit, std::int64_t after_id) = 0;
    virtual bool set_state(const std::string& uid, const std::string& from, const std::string& to,
                           const ChangeLogEntry& entry) = 0;
    virtual void touch(std::int64_t client_id, std::int64_t at) = 0;
    virtual ClientSummary summary(std::int64_t now) = 0;
    // The client's reports, newest first.
    virtual std::vector<ClientReport> reports(std::int64_t client_id, int limit) = 0;
    // Applies the report in one transaction. A change whose base is not the stored sequence
    // returns false (the agent then sends a full report). A report at or below the stored
    // sequence is a resend and changes nothing.
    // `within`, when set, runs inside that transaction once the report is applied (the
    // collection memberships that follow from it), so both land together; it is told what
    // the report changed.
    // `diff`, when set, is diff_inventory's for this full report: used if it still holds, worked
    // out again in the transaction if not.
    virtual bool apply_inventory(std::int64_t client_id, const Inventory& inventory,
                                 std::int64_t at,
                                 const std::function<void(const InventoryChange&)>& within = {},
                                 const InventoryDiff* diff = nullptr) = 0;
    // What the full report `full` would change, read from one snapshot without taking the
    // write lock, so that a site can work it out before it waits for the writer.
    virtual InventoryDiff diff_inventory(std::int64_t client_id, const Inventory& full) = 0;
};

class ClientService {
  public:
    ClientService(ClientStore& store, Clock clock) : store_(store), clock_(std::move(clock)) {}

    // Admin. Returns the secret (shown once). `uses`: how many enrolments it allows (none:
    // unlimited); `valid_for_s`: lifetime (0: no expiry).
    std::string create_secret(const Principal& admin, const std::string& name,
                              bool requires_approval, std::optional<std::int64_t> uses,
                              std::int64_t valid_for_s);
    std::vector<EnrolmentSecret> secrets(const Principal& admin);
    void revoke_secret(const Principal& admin, const std::string& name);

    // No principal: the secret is the credential. Error(Unauthenticated) for a bad, used-up,
    // expired or revoked secret (one message for all).
    Enrolment enrol(const std::string& secret, const std::string& hostname);

    // From "Bearer client_…": the client, pending or active. Error(Unauthenticated) otherwise.
    Client authenticate(const std::string& authorization);
    // A client may act only as itself, and only once approved.
    static void require_self(const Client& caller, const std::string& uid, bool must_be_active);

    // Returns true when the report changed what the site holds. Error(Conflict) when a change
    // report does not apply to the stored sequence ("send a full inventory").
    // `within`: see ClientStore::apply_inventory; called only when the report was applied.
    // `diff`: see ClientStore::apply_inventory.
    bool report_inventory(const Client& caller, const Inventory& inventory,
                          const std::function<void(const InventoryChange&)>& within = {},
                          const InventoryDiff* diff = nullptr);

    Client show(const Principal& reader, const std::string& uid);
    std::vector<Client> list(const Principal& reader, int limit, std::int64_t after_id);
    ClientSummary summary(const Principal& reader);
    // The client's last `limit` status reports, newest first; Error(NotFound) for no such client.
    std::vector<ClientReport> history(const Principal& reader, const std::string& uid, int limit);
    Client approve(const Principal& admin, const std::string& uid);
    Client revoke(const Principal& admin, const std::string& uid);

  private:
    ClientStore& store_;
    Clock clock_;
};

// Checks a fact key (lowercase dotted identifier, at most 64 characters).
bool is_fact_key(const std::string& key);

}  // namespace ferry::server
