// CollectionStore on the site's SQLite database: compiled queries run here, with every literal
// bound as a parameter.
#pragma once

#include "collection.h"
#include "ferry/sqlite.h"

namespace ferry::server {

class SqliteCollectionStore : public CollectionStore {
  public:
    explicit SqliteCollectionStore(sql::Database& db) : db_(db) {}
    std::int64_t create(const Collection& collection, const ChangeLogEntry& entry) override;
    std::optional<Collection> find(const std::string& name) override;
    std::vector<Collection> list() override;
    std::vector<Collection> definitions() override;
    std::vector<std::string> member_uids(std::int64_t collection_id, int limit) override;
    std::vector<std::int64_t> query_matches(const CompiledQuery& query,
                                            std::optional<std::int64_t> client_id) override;
    bool entries_of(const std::vector<std::string>& names,
                    const std::vector<std::int64_t>& entries) override;
    std::vector<std::string> uids(const std::vector<std::int64_t>& ids, int limit) override;
    std::int64_t store_members(const Collection& collection,
                               const std::vector<std::int64_t>& matches,
                               std::optional<std::int64_t> only_client, std::int64_t at) override;

    void update(const Collection& collection, const ChangeLogEntry& entry) override;
    bool advertised(std::int64_t collection_id) override;

  private:
    void write_definition(std::int64_t id, const Collection& collection);
    void load_links(Collection& collection);
    // Whether anything that goes into a policy targets the collection (an advertisement or a
    // distribution point): only then do its membership changes mark clients' policies dirty.
    bool targeted(std::int64_t collection_id);
    std::vector<std::int64_t> ids_in(const char* sql, std::int64_t collection_id,
                                     std::optional<std::int64_t> only_client);
    sql::Database& db_;
};

}  // namespace ferry::server
