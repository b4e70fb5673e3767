// PolicyStore on the site's SQLite database.
#pragma once

#include <optional>

#include "ferry/sqlite.h"
#include "policy_builder.h"

namespace ferry::server {

class SqlitePolicyStore : public PolicyStore {
  public:
    explicit SqlitePolicyStore(sql::Database& db) : db_(db) {}
    void mark_expiring(std::int64_t before) override;
    std::vector<PolicyTarget> claim_dirty(int limit) override;
    void remark(const std::vector<std::int64_t>& client_ids) override;
    std::vector<PublisherKey> publishers() override;
    std::vector<PolicyAdvertisement> advertisements_for(std::int64_t client_id) override;
    std::vector<std::string> sources_for(std::int64_t client_id) override;
    std::optional<StoredPolicy> current(std::int64_t client_id) override;
    void save(const std::vector<std::pair<PolicyTarget, StoredPolicy>>& policies,
              std::int64_t at) override;
    std::optional<StoredPolicy> by_uid(const std::string& uid) override;
    std::optional<std::string> etag_of(const std::string& uid) override;

  private:
    sql::Database& db_;
    std::optional<sql::Statement> advertisements_;
    std::optional<sql::Statement> current_;
};

}  // namespace ferry::server
