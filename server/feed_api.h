// The change feed distribution points pull (DESIGN §9): every new policy (subject: the client
// id) and every object an advertisement needs (subject: the object id), in sequence order.
//   GET /api/v1/feed?after=SEQ&limit=N     any role (distribution points: issue 5)
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "api_answer.h"
#include "ferry/sqlite.h"
#include "user_service.h"

namespace ferry::server {

ApiAnswer feed_api(sql::Database& db, const Principal& caller, const std::string& method,
                   const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace ferry::server
