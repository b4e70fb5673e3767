// Distribution points over HTTP (docs/api.md, "Distribution points and the feed"):
//   GET  /api/v1/dps, /api/v1/dps/NAME   any user role
//   POST /api/v1/dps {name}              admin; the answer carries the DP's token, once
//   POST /api/v1/dps/NAME/revoke         admin
//   POST /api/v1/dps/NAME/assign {collection: NAME|null}   admin
//   POST /api/v1/dps/NAME/schedule {schedule}              admin
//   POST /api/v1/dps/NAME/replica {replica}                admin
//   POST /api/v1/dps/register {url, objects?, bytes?, queue?, lag?, throughput?}   the DP itself
// The relay (POST /api/v1/dps/relay, the DP itself) is in site_server.cpp: each item is handed
// to the client routes' own handlers.
#pragma once

#include <string>
#include <vector>

#include "api_answer.h"
#include "dp.h"

namespace ferry::server {

ApiAnswer dps_api(DpService& dps, const Principal& caller, const std::string& method,
                  const std::vector<std::string>& parts, const std::string& body);

}  // namespace ferry::server
