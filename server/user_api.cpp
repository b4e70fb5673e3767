#include "user_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <sstream>

#include "ferry/error.h"
#include "ferry/json.h"

namespace ferry::server {
namespace {

Poco::JSON::Object user_json(const User& user) {
    Poco::JSON::Object o;
    o.set("name", user.name);
    o.set("role", role_name(user.role));
    o.set("created_at", user.created_at);
    if (user.revoked_at) o.set("revoked_at", *user.revoked_at);
    return o;
}

}  // namespace

ApiAnswer users_api(UserService& users, const Principal& caller, const std::string& method,
                    const std::vector<std::string>& parts, const std::string& body) {
    if (parts.empty() && method == "GET") {
        Poco::JSON::Array list;
        for (const auto& user : users.list_users(caller)) list.add(user_json(user));
        Poco::JSON::Object out;
        out.set("users", list);
        return json_answer(200, out);
    }
    if (parts.empty() && method == "POST") {
        json::FieldReader in(json::parse_object(body, "request body", 1000), "request body");
        in.allow_only({"name", "role"});
        const std::string name = in.string("name", true, 64);
        const std::string role = in.string("role", true, 32);
        const std::string token = users.create_user(caller, name, role);
        Poco::JSON::Object out;
        out.set("name", name);
        out.set("role", role);
        out.set("token", token);
        out.set("note", "the token is shown once; store it now");
        return json_answer(201, out);
    }
    if (parts.size() == 2 && parts[1] == "revoke" && method == "POST") {
        users.revoke_user(caller, parts[0]);
        Poco::JSON::Object out;
        out.set("name", parts[0]);
        out.set("revoked", true);
        return json_answer(200, out);
    }
    throw Error(ErrorCode::NotFound, "no such route");
}

ApiAnswer whoami_api(const Principal& caller, const std::string& method) {
    if (method != "GET") throw Error(ErrorCode::NotFound, "no such route");
    Poco::JSON::Array permissions;
    for (const Permission permission : all_permissions()) {
        if (role_allows(caller.role, permission)) permissions.add(permission_name(permission));
    }
    Poco::JSON::Object out;
    out.set("name", caller.name);
    out.set("role", role_name(caller.role));
    out.set("permissions", permissions);
    return json_answer(200, out);
}

ApiAnswer changelog_api(UserService& users, const Principal& caller, const std::string& method,
                        const std::vector<std::pair<std::string, std::string>>& query) {
    if (method != "GET") throw Error(ErrorCode::NotFound, "no such route");
    const std::int64_t since = query_integer(query, "since", 0, 0, INT64_MAX / 2);
    const std::int64_t after = query_integer(query, "after", 0, 0, INT64_MAX / 2);
    const int limit = static_cast<int>(query_integer(query, "limit", 1000, 1, 10000));
    Poco::JSON::Array entries;
    std::int64_t last = after;
    for (const auto& [id, entry] : users.changelog(caller, since, after, limit)) {
        Poco::JSON::Object o;
        o.set("id", id);
        o.set("at", entry.at);
        o.set("actor", entry.actor);
        o.set("action", entry.action);
        o.set("subject", entry.subject);
        o.set("before", entry.before);
        o.set("after", entry.after);
        entries.add(o);
        last = id;
    }
    Poco::JSON::Object out;
    out.set("entries", entries);
    out.set("next_after", last);
    return json_answer(200, out);
}

}  // namespace ferry::server
