#include "dp.h"

#include <cctype>

#include "ferry/error.h"
#include "ferry/json.h"
#include "ferry/policy.h"
#include "ferry/throttle.h"
#include "ferry/token.h"

namespace ferry::server {

std::string DpService::add(const Principal& admin, const std::string& name) {
    UserService::require(admin, Permission::ManageDps, "register distribution points");
    bool ok = !name.empty() && name.size() <= 64;
    for (unsigned char c : name)
        ok = ok && (std::islower(c) || std::isdigit(c) || c == '-' || c == '.' || c == '_');
    if (!ok)
        throw Error(ErrorCode::InvalidInput, "field \"name\": 1-64 of a-z, 0-9, '.', '_', '-'");
    const std::string token = generate_token("dp");
    DistributionPoint dp;
    dp.name = name;
    dp.created_by = admin.name;
    dp.created_at = clock_();
    store_.add(dp, token_digest(token),
               ChangeLogEntry{dp.created_at, admin.name, "dp.register", name, "", "registered"});
    return token;
}

std::vector<DistributionPoint> DpService::list(const Principal& reader) {
    UserService::require(reader, Permission::ReadSite, "read distribution points");
    return store_.list();
}

void DpService::revoke(const Principal& admin, const std::string& name) {
    UserService::require(admin, Permission::ManageDps, "revoke distribution points");
    const std::int64_t now = clock_();
    if (!store_.revoke(name, now,
                       ChangeLogEntry{now, admin.name, "dp.revoke", name, "active", "revoked"}))
        throw Error(ErrorCode::NotFound, "no active distribution point " + name.substr(0, 64));
}

Principal DpService::authenticate(const std::string& authorization) {
    const std::string prefix = "Bearer ";
    if (authorization.compare(0, prefix.size(), prefix) == 0) {
        const std::string token = authorization.substr(prefix.size());
        if (token.rfind("dp_", 0) == 0 && is_well_formed_token(token)) {
            if (const auto dp = store_.find_active(token_digest(token), clock_()))
                return Principal{"dp:" + dp->name, Role::DistributionPoint};
        }
    }
    throw Error(ErrorCode::Unauthenticated, "a valid token is required");
}

std::string DpService::require_dp(const Principal& dp, const std::string& what) {
    if (dp.role != Role::DistributionPoint || dp.name.rfind("dp:", 0) != 0)
        throw Error(ErrorCode::Forbidden, "only a distribution point " + what);
    return dp.name.substr(3);
}

DistributionPoint DpService::report(const Principal& dp, const std::string& url,
                                    const std::string& figures) {
    const std::string name = require_dp(dp, "reports itself");
    // The rule the policy's `sources` follow (core/policy): an address the site accepts is one
    // every agent accepts.
    if (!is_source_url(url))
        throw Error(ErrorCode::InvalidInput,
                    "field \"url\": an http:// or https:// URL of at most 256 characters, "
                    "without spaces");
    const auto known = store_.find(name);
    if (!known) throw Error(ErrorCode::NotFound, "no distribution point " + name);
    const std::int64_t now = clock_();
    std::optional<ChangeLogEntry> changed;
    if (known->url != url) changed = ChangeLogEntry{now, dp.name, "dp.url", name, known->url, url};
    store_.record_report(name, url, figures, now, changed);
    return *store_.find(name);
}

DistributionPoint DpService::show(const Principal& reader, const std::string& name) {
    UserService::require(reader, Permission::ReadSite, "read distribution points");
    const auto dp = store_.find(name);
    if (!dp) throw Error(ErrorCode::NotFound, "no distribution point " + name.substr(0, 64));
    return *dp;
}

void DpService::assign(const Principal& admin, const std::string& name,
                       const std::string& collection) {
    UserService::require(admin, Permission::ManageDps, "assign distribution points");
    const auto dp = store_.find(name);
    if (!dp || dp->revoked_at)
        throw Error(ErrorCode::NotFound, "no active distribution point " + name.substr(0, 64));
    store_.assign(name, collection,
                  ChangeLogEntry{clock_(), admin.name, "dp.assign", name, dp->collection,
                                 collection.empty() ? "(none)" : collection});
}

void DpService::set_schedule(const Principal& admin, const std::string& name,
                             const std::string& schedule) {
    UserService::require(admin, Permission::ManageDps, "schedule distribution points");
    if (schedule.size() > 1024 || !json::is_printable(schedule))
        throw Error(ErrorCode::InvalidInput,
                    "field \"schedule\": at most 1024 printable characters");
    try {
        RateSchedule::parse(schedule);  // refused now, not silently ignored by the DP later
    } catch (const Error& e) {
        throw Error(ErrorCode::InvalidInput, std::string("field \"schedule\": ") + e.what());
    }
    const auto dp = store_.find(name);
    if (!dp) throw Error(ErrorCode::NotFound, "no distribution point " + name.substr(0, 64));
    store_.set_schedule(name, schedule,
                        ChangeLogEntry{clock_(), admin.name, "dp.schedule", name, dp->schedule,
                                       schedule.empty() ? "(unlimited)" : schedule});
}

void DpService::set_replica(const Principal& admin, const std::string& name, bool replica) {
    UserService::require(admin, Permission::ManageDps, "configure distribution points");
    const auto dp = store_.find(name);
    if (!dp) throw Error(ErrorCode::NotFound, "no distribution point " + name.substr(0, 64));
    store_.set_replica(name, replica,
                       ChangeLogEntry{clock_(), admin.name, "dp.replica", name,
                                      dp->replica ? "replica" : "advertised only",
                                      replica ? "replica" : "advertised only"});
}

double DpService::scheduled_rate(const DistributionPoint& dp) const {
    try {
        return RateSchedule::parse(dp.schedule).rate_at(clock_());
    } catch (const Error&) {
        return kUnlimited;  // stored schedules were parsed when set; an old one shows as is
    }
}

}  // namespace ferry::server
