#include "feed_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "ferry/error.h"

namespace ferry::server {
ApiAnswer feed_api(sql::Database& db, const Principal& caller, const std::string& method,
                   const std::vector<std::pair<std::string, std::string>>& query) {
    if (method != "GET") throw Error(ErrorCode::NotFound, "no such route");
    UserService::require(caller, Permission::ReadContent, "read the feed");
    const std::int64_t after = query_integer(query, "after", 0, 0, INT64_MAX / 2);
    const int limit = static_cast<int>(query_integer(query, "limit", 1000, 1, 10000));
    sql::Statement rows = db.prepare(
        "SELECT seq, kind, subject, at, detail FROM feed WHERE seq > ? ORDER BY seq "
        "LIMIT ?");
    rows.bind(1, after).bind(2, limit);
    Poco::JSON::Array entries;
    std::int64_t last = after;
    while (rows.step()) {
        Poco::JSON::Object e;
        last = rows.column_int64(0);
        e.set("seq", last);
        e.set("kind", rows.column_text(1));
        e.set("subject", rows.column_text(2));
        e.set("at", rows.column_int64(3));
        if (rows.column_text(1) == "client") {
            // "DIGEST STATE": a DP checks client tokens against the digest. Only distribution
            // points and admins see it; it is worthless without the token, but nobody else
            // needs it.
            const std::string detail = rows.column_text(4);
            const auto space = detail.find(' ');
            e.set("state", detail.substr(space == std::string::npos ? 0 : space + 1));
            if (caller.role == Role::DistributionPoint || caller.role == Role::Admin)
                e.set("token_digest", detail.substr(0, space));
        }
        entries.add(e);
    }
    Poco::JSON::Object out;
    out.set("entries", entries);
    out.set("next_after", last);
    return json_answer(200, out);
}

}  // namespace ferry::server
