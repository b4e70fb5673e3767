// Distribution points over HTTP (docs/api.md):
//   GET  /api/v1/dps                  any user role
//   POST /api/v1/dps {name}           admin; the answer carries the DP's token, once
//   POST /api/v1/dps/NAME/revoke      admin
#pragma once

#include <string>
#include <vector>

#include "api_answer.h"
#include "dp.h"

namespace ferry::server {

ApiAnswer dps_api(DpService& dps, const Principal& caller, const std::string& method,
                  const std::vector<std::string>& parts, const std::string& body);

}  // namespace ferry::server
