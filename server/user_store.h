// UserStore: where users (people with a role and a token digest) and the change log live. The
// domain (UserService) sees only this interface; SqliteUserStore is the one implementation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "roles.h"

namespace ferry::server {

struct User {
    std::string name;
    Role role = Role::Viewer;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> revoked_at;
};

struct ChangeLogEntry {
    std::int64_t at = 0;
    std::string actor;
    std::string action;   // e.g. "user.create"
    std::string subject;  // e.g. the user's name
    std::string before;
    std::string after;
};

class UserStore {
  public:
    virtual ~UserStore() = default;
    // Adds the user and the log entry together, or neither. Error(AlreadyExists) on a taken name.
    virtual void create(const User& user, const std::string& token_digest,
                        const ChangeLogEntry& entry) = 0;
    // The active (not revoked) user whose token has this digest.
    virtual std::optional<User> find_active_by_token_digest(const std::string& digest) = 0;
    virtual std::optional<User> find(const std::string& name) = 0;
    virtual std::vector<User> list() = 0;
    // Change log entries with at >= since, oldest first, at most `limit`, after entry id
    // `after_id` (paging).
    virtual std::vector<std::pair<std::int64_t, ChangeLogEntry>> changelog(std::int64_t since,
                                                                           std::int64_t after_id,
                                                                           int limit) = 0;
    // Marks the user revoked and logs it, together. False when there is no such active user.
    virtual bool revoke(const std::string& name, std::int64_t at, const ChangeLogEntry& entry) = 0;
};

}  // namespace ferry::server
