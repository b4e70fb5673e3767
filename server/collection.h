// Collections (DESIGN §7): named sets of clients — static members, a query over inventory
// (server/collection_query.h), or both, plus the members of included collections minus those
// of excluded ones. Membership is kept evaluated (collection_member) so that advertisements and
// policies read it cheaply; it is re-evaluated when a collection is created or changed, when a
// client's inventory changes, and on a schedule. A client whose membership moves gets its
// policy rebuilt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client.h"
#include "collection_query.h"
#include "user_service.h"

namespace ferry::server {

struct Collection {
    std::int64_t id = 0;
    std::string name;
    std::string description;
    std::optional<std::string> query;
    bool pilot = false;  // pilot collections may be targeted before a release is ready
    std::vector<std::string> members;  // static members, by client id (cl_…)
    std::vector<std::string> include;  // other collections, by name
    std::vector<std::string> exclude;
    std::string created_by;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> evaluated_at;
    std::int64_t member_count = 0;
    bool linked = false;  // includes or excludes others (definitions() sets this, not the names)
};

class CollectionStore {
  public:
    virtual ~CollectionStore() = default;
    // Error(AlreadyExists) for a taken name, Error(NotFound) naming an unknown member or
    // collection. The collection, its links and the log entry together.
    virtual std::int64_t create(const Collection& collection, const ChangeLogEntry& entry) = 0;
    virtual std::optional<Collection> find(const std::string& name) = 0;
    // Replaces description, query, pilot flag, static members and links (by `collection.id`),
    // with the log entry, together. Links may name only older collections.
    virtual void update(const Collection& collection, const ChangeLogEntry& entry) = 0;
    // Every collection, oldest first: a collection only includes or excludes older ones, so
    // this is also the order to evaluate them in.
    virtual std::vector<Collection> list() = 0;
    // The same, without member counts and static members: what evaluation needs, cheaply.
    virtual std::vector<Collection> definitions() = 0;
    virtual std::vector<std::string> member_uids(std::int64_t collection_id, int limit) = 0;
    // Client row ids the compiled query matches (only `client_id` when given), revoked excluded.
    virtual std::vector<std::int64_t> query_matches(const CompiledQuery& query,
                                                    std::optional<std::int64_t> client_id) = 0;
    // True when one of the software entries (InventoryChange::software_entries) is a version of
    // one of the named packages.
    virtual bool entries_of(const std::vector<std::string>& names,
                            const std::vector<std::int64_t>& entries) = 0;
    // True when an advertisement targets the collection.
    virtual bool advertised(std::int64_t collection_id) = 0;
    // The client ids (cl_…) of the first `limit` row ids.
    virtual std::vector<std::string> uids(const std::vector<std::int64_t>& ids, int limit) = 0;
    // Sets the evaluated membership: the union of `matches`, static members and included
    // collections' members, minus excluded collections' members. Marks every client whose
    // membership moved for a policy rebuild; returns how many moved.
    virtual std::int64_t store_members(const Collection& collection,
                                       const std::vector<std::int64_t>& matches,
                                       std::optional<std::int64_t> only_client,
                                       std::int64_t at) = 0;
};

// How many members a preview lists.
constexpr int kPreviewMembers = 50;

struct QueryPreview {
    std::int64_t count = 0;
    std::vector<std::string> first_members;
};

class CollectionService {
  public:
    CollectionService(CollectionStore& store, Clock clock)
        : store_(store), clock_(std::move(clock)) {}

    Collection create(const Principal& who, const Collection& request);
    // Replaces the definition of an existing collection and re-evaluates it; members that move
    // get their policies rebuilt. The pilot flag can change only while no advertisement
    // targets it (the gates were checked against it).
    Collection update(const Principal& who, const Collection& request);
    Collection show(const Principal& reader, const std::string& name);
    std::vector<Collection> list(const Principal& reader);
    std::vector<std::string> members(const Principal& reader, const std::string& name, int limit);
    // Compiles and runs a query without saving it (the console's live preview).
    QueryPreview preview(const Principal& reader, const std::string& query);

    // Re-evaluates one client after its inventory changed: in every collection, or, told what
    // changed, only in those whose query reads it (and in those that include or exclude
    // others, which follow them).
    void refresh_client(std::int64_t client_id, const InventoryChange* change = nullptr);
    // Re-evaluates every collection (on a schedule); returns how many memberships moved.
    std::int64_t refresh_all();

  private:
    void check(const Collection& request) const;
    std::int64_t evaluate(const Collection& collection, std::optional<std::int64_t> client_id);
    std::int64_t evaluate(const Collection& collection, const CompiledQuery* query,
                          std::optional<std::int64_t> client_id);
    bool reads(const Collection& collection, const CompiledQuery* query,
               const InventoryChange& change);
    CollectionStore& store_;
    Clock clock_;
};

}  // namespace ferry::server
