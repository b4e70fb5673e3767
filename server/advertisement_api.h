// Advertisements and status over HTTP (docs/api.md):
//   GET  /api/v1/advertisements                    any role
//   POST /api/v1/advertisements {package: N@V, collection, release?, action?, available_at?,
//        deadline?, mandatory?, postpone_max?, postpone_max_delay?, windows?}
//                                                  admin, release-manager; gates of DESIGN §6
//   GET  /api/v1/advertisements/ADV-N              any role
//   POST /api/v1/advertisements/ADV-N/halt | resume | cancel {reason?}   admin, release-manager
//   GET  /api/v1/advertisements/ADV-N/status       any role: counts per state, per-client rows
//   POST /api/v1/status {messages: [{seq, advertisement, state, exit_code?, log_tail?, at}]}
//                                                  the client; resends are ignored by seq
#pragma once

#include <string>
#include <vector>

#include "advertisement.h"
#include "api_answer.h"
#include "ferry/json.h"

namespace ferry::server {

// The fields of a new advertisement in a request body, and reading them (shared with rollouts).
std::vector<std::string> advertisement_fields();
NewAdvertisement read_new_advertisement(json::FieldReader& in);

ApiAnswer advertisements_api(AdvertisementService& ads, const Principal& caller,
                             const std::string& method, const std::vector<std::string>& parts,
                             const std::string& body);
ApiAnswer status_api(AdvertisementService& ads, const Client& caller, const std::string& body);

constexpr std::size_t kMaxStatusBody = 12 << 20;

}  // namespace ferry::server
