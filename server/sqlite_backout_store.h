// BackoutStore on the site's SQLite database.
#pragma once

#include "backout.h"
#include "ferry/sqlite.h"

namespace ferry::server {

class SqliteBackoutStore : public BackoutStore {
  public:
    explicit SqliteBackoutStore(sql::Database& db) : db_(db) {}
    std::optional<std::string> release_state(const std::string& reference) override;
    std::vector<Advertisement> advertisements(const std::string& reference) override;
    std::vector<InstalledClient> installed_clients(const Advertisement& ad) override;
    std::int64_t package_version_id(const std::string& name, const std::string& version) override;
    std::vector<std::int64_t> apply(const std::string& reference, const std::string& from_state,
                                    const std::vector<BackoutGroup>& groups,
                                    const std::string& actor, std::int64_t at,
                                    const std::vector<ChangeLogEntry>& entries) override;

  private:
    sql::Database& db_;
};

}  // namespace ferry::server
