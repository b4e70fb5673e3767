// UserStore on the site's SQLite database.
#pragma once

#include "ferry/sqlite.h"
#include "user_store.h"

namespace ferry::server {

class SqliteUserStore : public UserStore {
  public:
    explicit SqliteUserStore(sql::Database& db) : db_(db) {}

    void create(const User& user, const std::string& token_digest,
                const ChangeLogEntry& entry) override;
    std::optional<User> find_active_by_token_digest(const std::string& digest) override;
    std::optional<User> find(const std::string& name) override;
    std::vector<User> list() override;
    std::vector<std::pair<std::int64_t, ChangeLogEntry>> changelog(std::int64_t since,
                                                                   std::int64_t after_id,
                                                                   int limit) override;
    bool revoke(const std::string& name, std::int64_t at, const ChangeLogEntry& entry) override;

  private:
    void append(const ChangeLogEntry& entry);
    sql::Database& db_;
};

// Appends to the change log; used inside the caller's transaction.
void append_changelog(sql::Database& db, const ChangeLogEntry& entry);

}  // namespace ferry::server
