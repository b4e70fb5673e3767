// ClientStore on the site's SQLite database.
#pragma once

#include "client.h"
#include "ferry/sqlite.h"
#include "last_contact_writer.h"
#include "software_ids.h"

namespace ferry::server {

class SqliteClientStore : public ClientStore {
  public:
    // With `contacts`, touch() notes the contact there (written within a second, batched)
    // instead of writing it now: a request then makes no write of its own just for that.
    // With `software_ids`, the ids of software entries are looked up there and what is learnt
    // is kept there, for every store of the process; without, in this store only.
    explicit SqliteClientStore(sql::Database& db, LastContactWriter* contacts = nullptr,
                               SoftwareIds* software_ids = nullptr)
        : db_(db), contacts_(contacts), ids_(software_ids ? software_ids : &own_ids_) {}
    void add_secret(const EnrolmentSecret& secret, const std::string& digest,
                    const ChangeLogEntry& entry) override;
    std::vector<EnrolmentSecret> secrets() override;
    bool revoke_secret(const std::string& name, std::int64_t at,
                       const ChangeLogEntry& entry) override;
    std::optional<EnrolmentSecret> secret_by_digest(const std::string& digest) override;
    bool enrol(const EnrolmentSecret& secret, Client& client, const std::string& token_digest,
               const ChangeLogEntry& entry) override;
    std::optional<Client> by_token_digest(const std::string& digest) override;
    std::optional<Client> find(const std::string& uid, bool with_inventory) override;
    std::vector<Client> list(int limit, std::int64_t after_id) override;
    bool set_state(const std::string& uid, const std::string& from, const std::string& to,
                   const ChangeLogEntry& entry) override;
    void touch(std::int64_t client_id, std::int64_t at) override;
    ClientSummary summary(std::int64_t now) override;
    std::vector<ClientReport> reports(std::int64_t client_id, int limit) override;
    bool apply_inventory(std::int64_t client_id, const Inventory& inventory, std::int64_t at,
                         const std::function<void(const InventoryChange&)>& within,
                         const InventoryDiff* diff) override;
    InventoryDiff diff_inventory(std::int64_t client_id, const Inventory& full) override;

  private:
    // A software entry learnt by a write transaction: kept in ids_ once it is committed.
    struct NewEntry {
        Software software;
        std::int64_t id;
    };
    // Works out a full report's difference; `against` is left to the caller. Reads only
    // committed rows: it runs before its transaction writes anything.
    InventoryDiff changes_from(std::int64_t client_id, const Inventory& full);
    // The committed id of `name` at `version`, from ids_ or the database (then kept in ids_).
    std::optional<std::int64_t> committed_software_id(const Software& software);
    // The id of the entry of `software`, added when there is none (within a write transaction).
    std::int64_t software_entry(const Software& software, std::vector<NewEntry>& learnt);
    std::int64_t new_software_id(const Software& software);
    void write_facts(std::int64_t client_id, const Inventory& changes);
    void add_software(std::int64_t client_id, std::int64_t software_id);
    void remove_software(std::int64_t client_id, const std::vector<std::int64_t>& software_ids);
    void remove_software_named(std::int64_t client_id, const std::string& name);
    sql::Database& db_;
    LastContactWriter* contacts_ = nullptr;
    SoftwareIds own_ids_;
    SoftwareIds* ids_;
};

}  // namespace ferry::server
