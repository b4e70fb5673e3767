#include "user_service.h"

#include <algorithm>

#include "ferry/error.h"
#include "ferry/token.h"

namespace ferry::server {
namespace {

bool valid_user_name(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    const auto ok = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    };
    return std::all_of(name.begin(), name.end(), ok) && name[0] != '.' && name[0] != '-';
}

}  // namespace

Principal UserService::authenticate(const std::string& authorization) const {
    const Error refused(ErrorCode::Unauthenticated,
                        "a valid token is required (Authorization: Bearer TOKEN)");
    const std::string prefix = "Bearer ";
    if (authorization.compare(0, prefix.size(), prefix) != 0) throw refused;
    const std::string token = authorization.substr(prefix.size());
    if (!is_well_formed_token(token)) throw refused;
    const auto user = store_.find_active_by_token_digest(token_digest(token));
    if (!user) throw refused;
    return {user->name, user->role};
}

void UserService::require(const Principal& who, Permission permission, const std::string& action) {
    if (!role_allows(who.role, permission)) {
        throw Error(ErrorCode::Forbidden,
                    std::string("role ") + role_name(who.role) + " may not " + action);
    }
}

std::string UserService::create_user(const Principal& actor, const std::string& name,
                                     const std::string& role_text) {
    require(actor, Permission::ManageUsers, "create users");
    if (!valid_user_name(name)) {
        throw Error(ErrorCode::InvalidInput,
                    "field \"name\": must be 1-64 of a-z, 0-9, '.', '_' or '-', not starting with "
                    "'.' or '-'");
    }
    const auto role = parse_role(role_text);
    if (!role)
        throw Error(ErrorCode::InvalidInput,
                    "field \"role\": must be admin, release-manager, cab, packager or viewer");
    const std::string token = generate_token(role_text);
    const std::int64_t now = clock_();
    store_.create(
        User{name, *role, now, std::nullopt}, token_digest(token),
        ChangeLogEntry{now, actor.name, "user.create", name, "", std::string("role ") + role_text});
    return token;
}

void UserService::revoke_user(const Principal& actor, const std::string& name) {
    require(actor, Permission::ManageUsers, "revoke users");
    const auto user = store_.find(name);
    if (!user || user->revoked_at) throw Error(ErrorCode::NotFound, "no active user " + name);
    if (user->role == Role::Admin) {
        const auto users = store_.list();
        const auto admins = std::count_if(users.begin(), users.end(), [](const User& u) {
            return u.role == Role::Admin && !u.revoked_at;
        });
        if (admins <= 1)
            throw Error(ErrorCode::Conflict,
                        "user " + name + " is the last active admin; create another admin first");
    }
    const std::int64_t now = clock_();
    if (!store_.revoke(name, now,
                       ChangeLogEntry{now, actor.name, "user.revoke", name, "active", "revoked"})) {
        throw Error(ErrorCode::NotFound, "no active user " + name);
    }
}

std::vector<User> UserService::list_users(const Principal& actor) const {
    require(actor, Permission::ManageUsers, "list users");
    return store_.list();
}

std::vector<std::pair<std::int64_t, ChangeLogEntry>> UserService::changelog(const Principal& reader,
                                                                            std::int64_t since,
                                                                            std::int64_t after_id,
                                                                            int limit) const {
    require(reader, Permission::ReadSite, "read the change log");
    return store_.changelog(since, after_id, limit);
}

}  // namespace ferry::server
