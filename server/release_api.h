// Releases over HTTP (docs/api.md):
//   GET  /api/v1/releases                         any role
//   POST /api/v1/releases {title, description?, priority?, rfcs: [RFC-NNNN], packages: [N@V]}
//                                                 admin, release-manager
//   GET  /api/v1/releases/REF                     any role
//   POST /api/v1/releases/REF/packages {package}  admin, release-manager (planning, building)
//   POST /api/v1/releases/REF/transition {state, reason?}   admin, release-manager
//   POST /api/v1/releases/REF/review {item, decision: go|no-go, note?}   the item's role
#pragma once

#include <string>
#include <vector>

#include "api_answer.h"
#include "release.h"

namespace ferry::server {

ApiAnswer releases_api(ReleaseService& releases, const Principal& caller, const std::string& method,
                       const std::vector<std::string>& parts, const std::string& body);

}  // namespace ferry::server
