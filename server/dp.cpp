#include "dp.h"

#include <cctype>

#include "ferry/error.h"
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

}  // namespace ferry::server
