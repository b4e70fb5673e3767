// UserService: who may call the site, and as what. Authenticates bearer tokens, checks
// permissions against the role table, and manages users; every change lands in the change log
// in the same transaction. Knows nothing of HTTP or SQL.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "roles.h"
#include "user_store.h"

namespace ferry::server {

struct Principal {
    std::string name;
    Role role = Role::Viewer;
};

using Clock = std::function<std::int64_t()>;

class UserService {
  public:
    UserService(UserStore& store, Clock clock) : store_(store), clock_(std::move(clock)) {}

    // From an Authorization header value ("Bearer <token>"). Error(Unauthenticated) when it is
    // missing, malformed, unknown or revoked — the same message for all, so it reveals nothing.
    Principal authenticate(const std::string& authorization) const;

    // Error(Forbidden) naming the role and what it may not do.
    static void require(const Principal& who, Permission permission, const std::string& action);

    // Returns the new user's token (shown once). Names: 1-64 of a-z, 0-9, '.', '_', '-'.
    std::string create_user(const Principal& actor, const std::string& name,
                            const std::string& role);
    // Error(NotFound) for no such active user; Error(Conflict) for the last active admin.
    void revoke_user(const Principal& actor, const std::string& name);
    std::vector<User> list_users(const Principal& actor) const;
    // The change log for any role: entries at or after `since`, after entry `after_id`.
    std::vector<std::pair<std::int64_t, ChangeLogEntry>> changelog(const Principal& reader,
                                                                   std::int64_t since,
                                                                   std::int64_t after_id,
                                                                   int limit) const;

  private:
    UserStore& store_;
    Clock clock_;
};

}  // namespace ferry::server
