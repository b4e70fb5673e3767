// ClientStore on the site's SQLite database.
#pragma once

#include "client.h"
#include "ferry/sqlite.h"
#include "last_contact_writer.h"

namespace ferry::server {

class SqliteClientStore : public ClientStore {
  public:
    explicit SqliteClientStore(sql::Database& db) : db_(db) {}
    // With `contacts`, touch() notes the contact there (written within a second, batched)
    // instead of writing it now: a request then makes no write of its own just for that.
    SqliteClientStore(sql::Database& db, LastContactWriter* contacts)
        : db_(db), contacts_(contacts) {}
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
                         const std::function<void()>& within, const InventoryDiff* diff) override;
    InventoryDiff diff_inventory(std::int64_t client_id, const Inventory& full) override;

  private:
    Inventory changes_from(std::int64_t client_id, const Inventory& full);
    // Runs `sql` ("DELETE … WHERE client_id = ? AND <key> = ?") for each of `keys`.
    void remove_rows(const char* sql, std::int64_t client_id, const std::vector<std::string>& keys);
    sql::Database& db_;
    LastContactWriter* contacts_ = nullptr;
};

}  // namespace ferry::server
