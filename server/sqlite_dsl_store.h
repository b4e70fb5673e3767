// DslStore on the site's SQLite database.
#pragma once

#include "dsl_store.h"
#include "ferry/sqlite.h"

namespace ferry::server {

class SqliteDslStore : public DslStore {
  public:
    explicit SqliteDslStore(sql::Database& db) : db_(db) {}
    void add_publisher(const PublisherKey& key, std::int64_t at,
                       const ChangeLogEntry& entry) override;
    std::vector<StoredPublisher> publishers() override;
    void add_version(const PackageVersion& version, std::int64_t publisher_id,
                     const ChangeLogEntry& entry) override;
    std::vector<PackageVersion> versions(const std::optional<std::string>& name) override;
    bool retire(const std::string& name, const std::string& version, std::int64_t at,
                const ChangeLogEntry& entry) override;

    std::vector<std::pair<std::string, std::uint64_t>> collectable_objects() override;
    bool is_registered(const std::string& object_id) override;
    void mark_collected(const std::vector<std::string>& object_ids, std::int64_t at,
                        const ChangeLogEntry& entry) override;

  private:
    sql::Database& db_;
};

}  // namespace ferry::server
