// Rollouts over HTTP (docs/api.md, "Rollouts"):
//   GET  /api/v1/rollouts                        any user role
//   POST /api/v1/rollouts {an advertisement's fields, waves: ["pilot", "25%", …],
//        success_threshold?, error_threshold?, sign_off?}   admin, release-manager
//   GET  /api/v1/rollouts/RO-N                   any user role: waves and their progress
//   GET  /api/v1/rollouts/RO-N/report            any user role: states per wave, failures
//                                                grouped, progress over time, the DPs
//   POST /api/v1/rollouts/RO-N/halt | resume | cancel | advance {reason?}
//                                                admin, release-manager
#pragma once

#include <string>
#include <vector>

#include "advertisement.h"
#include "api_answer.h"
#include "ferry/json.h"
#include "rollout.h"

namespace ferry::server {

ApiAnswer rollouts_api(RolloutService& rollouts, AdvertisementService& ads, const Principal& caller,
                       const std::string& method, const std::vector<std::string>& parts,
                       const std::string& body);

Poco::JSON::Object rollout_json(const Rollout& rollout);
// The plan fields of a request body (waves, success_threshold, error_threshold, sign_off) into
// `plan`, keeping its defaults for what is absent. Errors name the field.
void read_rollout_plan(json::FieldReader& in, RolloutPlan& plan);
// Whether the body has any of them.
bool has_rollout_plan(const json::FieldReader& in);
Poco::JSON::Object report_json(const RolloutReport& report);

}  // namespace ferry::server
