#include "site_gauges.h"

namespace ferry::server {
namespace {

std::int64_t single(sql::Database& db, const char* query) {
    sql::Statement row = db.prepare(query);
    return row.step() ? row.column_int64(0) : 0;
}

}  // namespace

SiteGauges read_site_gauges(sql::Database& db) {
    SiteGauges g;
    sql::Statement objects = db.prepare(
        "SELECT count(*), coalesce(sum(size), 0) FROM (SELECT object_id, max(size) AS size FROM "
        "package_version WHERE collected_at IS NULL GROUP BY object_id)");
    if (objects.step()) {
        g.objects = objects.column_int64(0);
        g.object_bytes = objects.column_int64(1);
    }
    sql::Statement clients = db.prepare("SELECT state, count(*) FROM client GROUP BY state");
    while (clients.step()) g.clients[clients.column_text(0)] = clients.column_int64(1);
    g.policies = single(db, "SELECT count(*) FROM client_policy");
    g.policies_issued = single(db, "SELECT count(*) FROM feed WHERE kind = 'policy'");
    g.policies_pending = single(db, "SELECT count(*) FROM client WHERE policy_dirty = 1");
    g.advertisements_active =
        single(db, "SELECT count(*) FROM advertisement WHERE state = 'active'");
    return g;
}

}  // namespace ferry::server
