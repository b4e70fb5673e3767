// RolloutStore on the site's SQLite database.
#pragma once

#include "ferry/sqlite.h"
#include "rollout.h"

namespace ferry::server {

class SqliteRolloutStore : public RolloutStore {
  public:
    explicit SqliteRolloutStore(sql::Database& db) : db_(db) {}
    std::optional<std::pair<std::int64_t, bool>> collection(const std::string& name) override;
    std::optional<Rollout> find(std::int64_t id) override;
    std::optional<Rollout> find_by_advertisement(std::int64_t advertisement_id) override;
    std::vector<Rollout> list() override;
    std::vector<std::int64_t> live() override;
    std::string release_state(const std::string& reference) override;
    std::vector<UnplacedClient> unplaced(const Rollout& rollout) override;
    void place(const Rollout& rollout,
               const std::vector<std::pair<std::int64_t, int>>& client_waves,
               std::int64_t at) override;
    bool start_wave(const Rollout& rollout, int wave, std::int64_t at, bool release_to_deploying,
                    const std::vector<ChangeLogEntry>& entries) override;
    void complete_wave(const Rollout& rollout, int wave, std::int64_t at,
                       const ChangeLogEntry& entry) override;
    bool set_state(const Rollout& rollout, const std::string& from, const std::string& to,
                   const std::string& reason, std::int64_t at, bool release_to_deployed,
                   const std::vector<ChangeLogEntry>& entries) override;
    bool release_has_unfinished(const std::string& reference, std::int64_t except_rollout) override;
    bool release_has_completed(const std::string& reference, std::int64_t except_rollout) override;
    void sample(const Rollout& rollout, std::int64_t at) override;
    RolloutReport report(const Rollout& rollout) override;

  private:
    std::vector<Rollout> select(const std::string& where, std::int64_t key);
    void fill_waves(Rollout& rollout);
    sql::Database& db_;
};

}  // namespace ferry::server
