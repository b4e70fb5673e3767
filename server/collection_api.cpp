#include "collection_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "ferry/error.h"
#include "ferry/json.h"

namespace ferry::server {
namespace {

Poco::JSON::Array string_list(const std::vector<std::string>& items) {
    Poco::JSON::Array list;
    for (const auto& item : items) list.add(item);
    return list;
}

Poco::JSON::Object collection_json(const Collection& c) {
    Poco::JSON::Object o;
    o.set("name", c.name);
    o.set("description", c.description);
    if (c.query) o.set("query", *c.query);
    o.set("pilot", c.pilot);
    o.set("members", string_list(c.members));
    o.set("include", string_list(c.include));
    o.set("exclude", string_list(c.exclude));
    o.set("member_count", c.member_count);
    o.set("created_by", c.created_by);
    o.set("created_at", c.created_at);
    if (c.evaluated_at) o.set("evaluated_at", *c.evaluated_at);
    return o;
}

Collection collection_from(const std::string& body) {
    json::FieldReader in(json::parse_object(body, "request body", 20'000), "request body");
    in.allow_only({"name", "description", "query", "members", "include", "exclude", "pilot"});
    Collection c;
    c.name = in.string("name", true, 64);
    c.description = in.string("description", false, 2000);
    if (in.has("query")) c.query = in.string("query", true, kMaxQueryLength);
    c.members = in.strings("members", false, 10'000, 40);
    c.include = in.strings("include", false, 100, 64);
    c.exclude = in.strings("exclude", false, 100, 64);
    c.pilot = in.boolean("pilot", false);
    return c;
}

ApiAnswer preview(CollectionService& collections, const Principal& caller,
                  const std::string& body) {
    json::FieldReader in(json::parse_object(body, "request body", 10), "request body");
    in.allow_only({"query"});
    const std::string query = in.string("query", true, kMaxQueryLength + 1);
    Poco::JSON::Object out;
    try {
        const QueryPreview result = collections.preview(caller, query);
        out.set("valid", true);
        out.set("count", result.count);
        out.set("members", string_list(result.first_members));
    } catch (const Error& e) {
        if (e.code() != ErrorCode::InvalidInput) throw;
        out.set("valid", false);
        out.set("error", std::string(e.what()));
        out.set("column", static_cast<Poco::UInt64>(query_error_column(e.what())));
    }
    return json_answer(200, out);
}

}  // namespace

ApiAnswer collections_api(CollectionService& collections, const Principal& caller,
                          const std::string& method, const std::vector<std::string>& parts,
                          const std::string& body, int limit) {
    if (parts.empty() && method == "GET") {
        Poco::JSON::Array list;
        for (const auto& c : collections.list(caller)) list.add(collection_json(c));
        Poco::JSON::Object out;
        out.set("collections", list);
        return json_answer(200, out);
    }
    if (parts.empty() && method == "POST")
        return json_answer(201, collection_json(collections.create(caller, collection_from(body))));
    if (parts.size() == 1 && parts[0] == "preview" && method == "POST")
        return preview(collections, caller, body);
    if (parts.size() == 1 && method == "GET")
        return json_answer(200, collection_json(collections.show(caller, parts[0])));
    if (parts.size() == 1 && method == "POST") {
        Collection changed = collection_from(body);
        if (changed.name != parts[0])
            throw Error(ErrorCode::InvalidInput,
                        "field \"name\": must be the collection's name, " + parts[0].substr(0, 64));
        return json_answer(200, collection_json(collections.update(caller, changed)));
    }
    if (parts.size() == 2 && parts[1] == "members" && method == "GET") {
        Poco::JSON::Object out;
        out.set("collection", parts[0]);
        out.set("members", string_list(collections.members(caller, parts[0], limit)));
        return json_answer(200, out);
    }
    throw Error(ErrorCode::NotFound, "no such route");
}

}  // namespace ferry::server
