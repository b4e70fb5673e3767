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

// GET /api/v1/whoami   any token: who the caller is and what its role allows, so that a page
// (the console) can offer only what the server would accept; the server still checks each call.
ApiAnswer whoami_api(const Principal& caller, const std::string& method);

}  // namespace ferry::server
