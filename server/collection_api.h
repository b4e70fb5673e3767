// Collections over HTTP (docs/api.md, grammar in docs/collections.md):
//   GET  /api/v1/collections                        any role
//   POST /api/v1/collections {name, description?, query?, members?, include?, exclude?, pilot?}
//                                                   admin, release-manager
//   GET  /api/v1/collections/NAME                   any role
//   POST /api/v1/collections/NAME {same fields as creation}   admin, release-manager: replaces
//                                                   the definition and re-evaluates it
//   GET  /api/v1/collections/NAME/members[?limit=N] any role
//   POST /api/v1/collections/preview {query}        any role: count and first members, or the
//                                                   error with its column (200 either way)
#pragma once

#include <string>
#include <vector>

#include "api_answer.h"
#include "collection.h"

namespace ferry::server {

// `limit`: how many members GET …/members lists (the query parameter, default 100,000).
ApiAnswer collections_api(CollectionService& collections, const Principal& caller,
                          const std::string& method, const std::vector<std::string>& parts,
                          const std::string& body, int limit);

}  // namespace ferry::server
