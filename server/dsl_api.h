// The DSL's records over HTTP:
//   GET  /api/v1/publishers                               any role
//   POST /api/v1/publishers {name, key, packages: [...]}  admin
//   GET  /api/v1/packages[/NAME]                          any role
//   POST /api/v1/packages {object_id, signature}          packager, admin (object uploaded first)
#pragma once

#include <string>
#include <vector>

#include "dsl_service.h"
#include "user_api.h"

namespace ferry::server {

ApiAnswer publishers_api(DslService& dsl, const Principal& caller, const std::string& method,
                         const std::vector<std::string>& parts, const std::string& body);
ApiAnswer packages_api(DslService& dsl, const Principal& caller, const std::string& method,
                       const std::vector<std::string>& parts, const std::string& body);

// POST /api/v1/gc {dry_run?}   admin: remove objects nothing references (logged)
ApiAnswer gc_api(DslService& dsl, const Principal& caller, const std::string& method,
                 const std::string& body);

}  // namespace ferry::server
