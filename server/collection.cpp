#include "collection.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "ferry/error.h"
#include "ferry/json.h"

namespace ferry::server {
namespace {

bool is_collection_name(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    for (unsigned char c : name) {
        if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
    }
    return true;
}

}  // namespace

void CollectionService::check(const Collection& request) const {
    if (!is_collection_name(request.name))
        throw Error(ErrorCode::InvalidInput,
                    "field \"name\": 1-64 of letters, digits, '.', '_', '-'");
    if (request.description.size() > 2000 || !json::is_printable(request.description))
        throw Error(ErrorCode::InvalidInput,
                    "field \"description\": at most 2000 printable characters");
    if (!request.query && request.members.empty() && request.include.empty())
        throw Error(ErrorCode::InvalidInput,
                    "a collection needs a \"query\", \"members\" or \"include\"");
    if (request.query) compile_collection_query(*request.query);  // errors name the column
    if (request.name == "preview")
        throw Error(ErrorCode::InvalidInput, "field \"name\": \"preview\" is reserved");
    // A pilot collection gathers only pilots: including a production collection would let a
    // pilot advertisement reach production clients before the release is ready.
    for (const auto& other : request.include) {
        const auto included = store_.find(other);
        if (included && request.pilot && !included->pilot)
            throw Error(ErrorCode::InvalidInput,
                        "field \"include\": " + other.substr(0, 64) +
                            " is a production collection; a pilot collection includes only "
                            "pilot collections");
    }
    std::set<std::string> linked;
    for (const auto& list : {request.include, request.exclude}) {
        for (const auto& other : list) {
            if (!linked.insert(other).second)
                throw Error(ErrorCode::InvalidInput, "collection \"" + other.substr(0, 64) +
                                                         "\" is named twice in include/exclude");
        }
    }
}

Collection CollectionService::create(const Principal& who, const Collection& request) {
    UserService::require(who, Permission::ManageCollections, "create collections");
    check(request);
    Collection collection = request;
    collection.created_by = who.name;
    collection.created_at = clock_();
    std::string what = collection.pilot ? "pilot" : "production";
    if (collection.query) what += ", query: " + *collection.query;
    if (!collection.members.empty())
        what += ", " + std::to_string(collection.members.size()) + " static member(s)";
    collection.id =
        store_.create(collection, ChangeLogEntry{collection.created_at, who.name,
                                                 "collection.create", collection.name, "", what});
    evaluate(collection, std::nullopt);
    return show(who, collection.name);
}

Collection CollectionService::update(const Principal& who, const Collection& request) {
    UserService::require(who, Permission::ManageCollections, "change collections");
    check(request);
    const Collection before = show(who, request.name);
    if (before.pilot != request.pilot && store_.advertised(before.id))
        throw Error(ErrorCode::Conflict,
                    "collection " + before.name +
                        " is targeted by advertisements; its pilot flag cannot change");
    Collection collection = request;
    collection.id = before.id;
    collection.created_by = before.created_by;
    collection.created_at = before.created_at;
    store_.update(collection, ChangeLogEntry{clock_(), who.name, "collection.update",
                                             collection.name, before.query.value_or("(static)"),
                                             collection.query.value_or("(static)") + ", " +
                                                 std::to_string(collection.members.size()) +
                                                 " static member(s)"});
    refresh_all();  // collections that include this one move with it
    return show(who, collection.name);
}

Collection CollectionService::show(const Principal& reader, const std::string& name) {
    UserService::require(reader, Permission::ReadSite, "read collections");
    auto collection = store_.find(name);
    if (!collection) throw Error(ErrorCode::NotFound, "no collection " + name.substr(0, 64));
    return *collection;
}

std::vector<Collection> CollectionService::list(const Principal& reader) {
    UserService::require(reader, Permission::ReadSite, "read collections");
    return store_.list();
}

std::vector<std::string> CollectionService::members(const Principal& reader,
                                                    const std::string& name, int limit) {
    return store_.member_uids(show(reader, name).id, limit);
}

QueryPreview CollectionService::preview(const Principal& reader, const std::string& query) {
    UserService::require(reader, Permission::ReadSite, "preview collection queries");
    const auto matches = store_.query_matches(compile_collection_query(query), std::nullopt);
    QueryPreview out;
    out.count = static_cast<std::int64_t>(matches.size());
    out.first_members = store_.uids(matches, kPreviewMembers);
    return out;
}

std::int64_t CollectionService::evaluate(const Collection& collection,
                                         std::optional<std::int64_t> client_id) {
    if (!collection.query) return evaluate(collection, nullptr, client_id);
    const CompiledQuery query = compile_collection_query(*collection.query);
    return evaluate(collection, &query, client_id);
}

std::int64_t CollectionService::evaluate(const Collection& collection, const CompiledQuery* query,
                                         std::optional<std::int64_t> client_id) {
    std::vector<std::int64_t> matches;
    if (query) matches = store_.query_matches(*query, client_id);
    return store_.store_members(collection, matches, client_id, clock_());
}

void CollectionService::refresh_client(std::int64_t client_id, const InventoryChange* change) {
    for (const auto& collection : store_.definitions()) {
        std::optional<CompiledQuery> query;
        if (collection.query) query = compile_collection_query(*collection.query);
        if (change && !reads(collection, query ? &*query : nullptr, *change)) continue;
        evaluate(collection, query ? &*query : nullptr, client_id);
    }
}

// Whether a client's membership of `collection` may move with `change`. Static members and the
// client's own columns (hostname, id) never move with inventory; what an included or excluded
// collection did is not known here, so a collection with links is always evaluated.
bool CollectionService::reads(const Collection& collection, const CompiledQuery* query,
                              const InventoryChange& change) {
    if (collection.linked) return true;
    if (!query) return false;
    auto meets = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
        return std::any_of(a.begin(), a.end(), [&](const std::string& x) {
            return std::find(b.begin(), b.end(), x) != b.end();
        });
    };
    if (meets(query->fact_keys, change.fact_keys)) return true;
    if (query->software_names.empty()) return false;
    if (meets(query->software_names, change.software_names)) return true;
    return !change.software_entries.empty() &&
           store_.entries_of(query->software_names, change.software_entries);
}

std::int64_t CollectionService::refresh_all() {
    std::int64_t moved = 0;
    for (const auto& collection : store_.definitions()) moved += evaluate(collection, std::nullopt);
    return moved;
}

}  // namespace ferry::server
