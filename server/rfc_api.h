// Requests for change over HTTP:
//   GET  /api/v1/rfcs                  any role
//   POST /api/v1/rfcs {title, description?, business_need?, risk?, need?}   admin, release-manager,
//   packager GET  /api/v1/rfcs/RFC-NNNN         any role POST /api/v1/rfcs/RFC-NNNN/approve
//   {reason?}   cab POST /api/v1/rfcs/RFC-NNNN/reject  {reason}    cab
#pragma once

#include <string>
#include <vector>

#include "rfc.h"
#include "user_api.h"

namespace ferry::server {

ApiAnswer rfcs_api(RfcService& rfcs, const Principal& caller, const std::string& method,
                   const std::vector<std::string>& parts, const std::string& body);

}  // namespace ferry::server
