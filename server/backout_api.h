// Backing a release out over HTTP (docs/api.md, "Backout"):
//   POST /api/v1/releases/REF/backout {reason, waves?, success_threshold?, error_threshold?,
//        sign_off?}   admin, release-manager
#pragma once

#include <string>

#include "api_answer.h"
#include "backout.h"

namespace ferry::server {

ApiAnswer backout_api(BackoutService& backouts, RolloutService& rollouts, const Principal& caller,
                      const std::string& reference, const std::string& body);

}  // namespace ferry::server
