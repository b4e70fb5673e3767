// The /api/v1/users resource: HTTP in, UserService call, JSON out.
//   GET  /api/v1/users                 list (admin)
//   POST /api/v1/users {name, role}    create; the answer carries the token, once (admin)
//   POST /api/v1/users/NAME/revoke     revoke (admin)
#pragma once

#include <string>
#include <vector>

#include "api_answer.h"
#include "user_service.h"

namespace ferry::server {

// `parts` are the path's segments after /api/v1/users. Throws ferry::Error for the caller's
// single mapping to HTTP statuses.
ApiAnswer users_api(UserService& users, const Principal& caller, const std::string& method,
                    const std::vector<std::string>& parts, const std::string& body);

// GET /api/v1/changelog?since=UNIX&after=ID&limit=N   any role; oldest first, `next_after` to
// page on.
ApiAnswer changelog_api(UserService& users, const Principal& caller, const std::string& method,
                        const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace ferry::server
