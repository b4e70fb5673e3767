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
    std::optional<DistributionPoint> find(const std::string& name) override;
    void record_report(const std::string& name, const std::string& url, const std::string& report,
                       std::int64_t now, const std::optional<ChangeLogEntry>& url_changed) override;
    void assign(const std::string& name, const std::string& collection,
                const ChangeLogEntry& entry) override;
    void set_schedule(const std::string& name, const std::string& schedule,
                      const ChangeLogEntry& entry) override;
    void set_replica(const std::string& name, bool replica, const ChangeLogEntry& entry) override;
    bool serves(const std::string& name, std::int64_t client_id) override;

  private:
    sql::Database& db_;
};

}  // namespace ferry::server
