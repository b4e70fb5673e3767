// Distribution points over HTTP (docs/api.md, "Distribution points and the feed"):
//   GET  /api/v1/dps, /api/v1/dps/NAME   any user role
//   POST /api/v1/dps {name}              admin; the answer carries the DP's token, once
//   POST /api/v1/dps/NAME/revoke         admin
//   POST /api/v1/dps/NAME/assign {collection: NAME|null}   admin
//   POST /api/v1/dps/NAME/schedule {schedule}              admin
//   POST /api/v1/dps/NAME/replica {replica}                admin
//   POST /api/v1/dps/register {url, objects?, bytes?, queue?, lag?, throughput?, held?}
//        the DP itself; `held`: the ids of the objects it holds, when at most kMaxHeldListed
// The relay (POST /api/v1/dps/relay, the DP itself) is in site_server.cpp: each item is handed
// to the client routes' own handlers.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "api_answer.h"
#include "dp.h"

namespace ferry::server {

// A DP lists the objects it holds in its heartbeat up to this many (the body stays under the
// 64 KiB every JSON request is held to); past it, it sends only their number.
inline constexpr std::size_t kMaxHeldListed = 800;

ApiAnswer dps_api(DpService& dps, const Principal& caller, const std::string& method,
                  const std::vector<std::string>& parts, const std::string& body);

}  // namespace ferry::server
