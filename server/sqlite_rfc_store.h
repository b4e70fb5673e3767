// RfcStore on the site's SQLite database.
#pragma once

#include "ferry/sqlite.h"
#include "rfc.h"

namespace ferry::server {

class SqliteRfcStore : public RfcStore {
  public:
    explicit SqliteRfcStore(sql::Database& db) : db_(db) {}
    std::int64_t create(const Rfc& rfc, const ChangeLogEntry& entry) override;
    std::optional<Rfc> find(std::int64_t id) override;
    std::vector<Rfc> list() override;
    void vote(std::int64_t id, const RfcVote& vote, const std::string& new_state,
              const ChangeLogEntry& entry) override;

  private:
    std::vector<RfcVote> votes_of(std::int64_t id);
    std::vector<std::string> releases_of(std::int64_t id);
    sql::Database& db_;
};

}  // namespace ferry::server
