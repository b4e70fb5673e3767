#include "backout_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "ferry/json.h"
#include "rollout_api.h"

namespace ferry::server {

ApiAnswer backout_api(BackoutService& backouts, RolloutService& rollouts, const Principal& caller,
                      const std::string& reference, const std::string& body) {
    json::FieldReader in(json::parse_object(body, "request body", 50), "request body");
    in.allow_only({"reason", "waves", "success_threshold", "error_threshold", "sign_off"});
    const std::string reason = in.string("reason", true, 4000);
    std::optional<RolloutPlan> plan;
    if (has_rollout_plan(in)) {
        plan.emplace();
        read_rollout_plan(in, *plan);
    }
    const BackoutResult result = backouts.backout(caller, reference, reason, plan);
    Poco::JSON::Object out;
    out.set("release", result.release);
    out.set("state", "backed-out");
    out.set("clients", result.clients);
    Poco::JSON::Array list;
    for (const std::int64_t id : result.rollouts) list.add(rollout_json(rollouts.show(caller, id)));
    out.set("rollouts", list);
    return json_answer(200, out);
}

}  // namespace ferry::server
