// DpStore on the site's SQLite database.
#pragma once

#include "dp.h"
#include "ferry/sqlite.h"

namespace ferry::server {

class SqliteDpStore : public DpStore {
  public:
    explicit SqliteDpStore(sql::Database& db) : db_(db) {}
    void add(const DistributionPoint& dp, const std::string& token_digest,
             const ChangeLogEntry& entry) override;
    std::vector<DistributionPoint> list() override;
    bool revoke(const std::string& name, std::int64_t at, const ChangeLogEntry& entry) override;
    std::optional<DistributionPoint> find_active(const std::string& token_digest,
                                                 std::int64_t now) override;

  private:
    sql::Database& db_;
};

}  // namespace ferry::server
