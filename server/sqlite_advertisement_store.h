// AdvertisementStore on the site's SQLite database.
#pragma once

#include "advertisement.h"
#include "ferry/sqlite.h"

namespace ferry::server {

class SqliteAdvertisementStore : public AdvertisementStore {
  public:
    explicit SqliteAdvertisementStore(sql::Database& db) : db_(db) {}
    AdvertisementTarget target(const std::string& package, const std::string& version,
                               const std::string& collection) override;
    std::int64_t create(const Advertisement& ad, std::int64_t package_version_id,
                        std::int64_t collection_id, bool start_deploying,
                        const RolloutPlan* rollout,
                        const std::vector<ChangeLogEntry>& entries) override;
    std::optional<Advertisement> find(std::int64_t id) override;
    std::vector<Advertisement> list() override;
    bool set_state(std::int64_t id, const std::string& from, const std::string& to,
                   const ChangeLogEntry& entry) override;
    std::int64_t add_status(std::int64_t client_id, const std::vector<StatusMessage>& messages,
                            std::int64_t received_at) override;
    StatusReport report(std::int64_t id, int client_limit) override;

  private:
    std::vector<Advertisement> select(const std::string& where, std::optional<std::int64_t> id);
    sql::Database& db_;
};

// Marks every member of the advertisement's collection for a policy rebuild.
void mark_audience_dirty(sql::Database& db, std::int64_t advertisement_id);

}  // namespace ferry::server
