#include "feed_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <algorithm>
#include <exception>
#include <string>

#include "ferry/error.h"

namespace ferry::server {

ApiAnswer feed_api(sql::Database& db, const Principal& caller, const std::string& method,
                   const std::vector<std::pair<std::string, std::string>>& query) {
    if (method != "GET") throw Error(ErrorCode::NotFound, "no such route");
    UserService::require(caller, Permission::ReadContent, "read the feed");
    const std::int64_t after = query_integer(query, "after", 0, 0, INT64_MAX / 2);
    const int limit = static_cast<int>(query_integer(query, "limit", 1000, 1, 10000));
    // A distribution point sees the policies of the clients it serves (its assigned
    // collection), the clients that left it (policy entries with a detail, see the schema's
    // "distribution points learn which clients left them"), and every client's token digest (a
    // client may move to it at any time).
    const bool dp = caller.role == Role::DistributionPoint && caller.name.rfind("dp:", 0) == 0;
    sql::Statement rows = db.prepare(
        dp ? "SELECT f.seq, f.kind, f.subject, f.at, f.detail FROM feed f WHERE f.seq > ?1 AND "
             "(f.kind != 'policy' OR (f.detail IS NULL AND EXISTS (SELECT 1 FROM client c JOIN "
             "collection_member m ON m.client_id = c.id JOIN dp d ON d.collection_id = "
             "m.collection_id WHERE c.uid = f.subject AND d.name = ?3 AND d.revoked_at IS NULL)) "
             "OR f.detail = 'dp ' || ?3 OR f.detail = (SELECT 'left ' || d.collection_id FROM dp "
             "d WHERE d.name = ?3 AND d.revoked_at IS NULL)) ORDER BY f.seq LIMIT ?2"
           : "SELECT seq, kind, subject, at, detail FROM feed WHERE seq > ?1 ORDER BY seq LIMIT "
             "?2");
    rows.bind(1, after).bind(2, limit);
    if (dp) rows.bind(3, caller.name.substr(3));
    Poco::JSON::Array entries;
    std::int64_t last = after;
    while (rows.step()) {
        Poco::JSON::Object e;
        last = rows.column_int64(0);
        e.set("seq", last);
        e.set("kind", rows.column_text(1));
        e.set("subject", rows.column_text(2));
        e.set("at", rows.column_int64(3));
        if (rows.column_text(1) == "object") {
            // An advertisement needs it (no detail), or the library registered it ("library
            // SIZE"): a replica DP fetches both, any other DP only what is advertised.
            const bool library = !rows.column_is_null(4);
            e.set("advertised", !library);
            if (library) {
                const std::string detail = rows.column_text(4);
                e.set("detail", detail);
                const auto space = detail.find(' ');
                if (space != std::string::npos) {
                    try {
                        e.set("size",
                              static_cast<Poco::Int64>(std::stoll(detail.substr(space + 1))));
                    } catch (const std::exception&) {
                    }
                }
            }
        }
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
    if (static_cast<int>(entries.size()) < limit) {
        // The whole feed up to its end was looked at: a filtered caller moves past what it
        // does not see, instead of scanning it again next time.
        sql::Statement end = db.prepare("SELECT coalesce(max(seq), 0) FROM feed");
        end.step();
        last = std::max(last, end.column_int64(0));
    }
    Poco::JSON::Object out;
    out.set("entries", entries);
    out.set("next_after", last);
    return json_answer(200, out);
}

}  // namespace ferry::server
