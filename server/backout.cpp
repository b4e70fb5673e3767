#include "backout.h"

#include <map>

#include "ferry/error.h"
#include "ferry/json.h"

namespace ferry::server {
namespace {

// The original's waves and thresholds, or one wave for everyone when it had no rollout.
RolloutPlan plan_like(RolloutStore& rollouts, const Advertisement& original) {
    RolloutPlan plan;
    plan.waves.push_back(WavePlan{"", 100});
    const auto rollout = rollouts.find_by_advertisement(original.id);
    if (!rollout) return plan;
    plan.waves.clear();
    for (const auto& wave : rollout->waves) plan.waves.push_back(wave.plan);
    plan.success_threshold = rollout->success_threshold;
    plan.error_threshold = rollout->error_threshold;
    plan.sign_off = rollout->sign_off;
    return plan;
}

}  // namespace

BackoutResult BackoutService::backout(const Principal& who, const std::string& reference,
                                      const std::string& reason,
                                      const std::optional<RolloutPlan>& plan) {
    UserService::require(who, Permission::ManageReleases, "back releases out");
    UserService::require(who, Permission::Advertise, "back releases out");
    if (reason.size() < 10 || reason.size() > 4000 || !json::is_printable(reason))
        throw Error(ErrorCode::InvalidInput,
                    "field \"reason\": why the release is backed out, 10 to 4000 printable "
                    "characters");
    const auto state = store_.release_state(reference);
    if (!state) throw Error(ErrorCode::NotFound, "no release " + reference.substr(0, 40));
    if (*state != "deploying" && *state != "deployed")
        throw Error(ErrorCode::Conflict, reference + " is " + *state +
                                             "; only a deploying or deployed release can be "
                                             "backed out");
    std::optional<RolloutPlan> override_plan;
    if (plan) override_plan = RolloutService(rollouts_, clock_).resolve(*plan, false);

    std::vector<BackoutGroup> groups;
    BackoutResult result;
    result.release = reference;
    for (const auto& original : store_.advertisements(reference)) {
        std::map<std::int64_t, BackoutGroup> by_target;  // previous version id (0: none)
        for (const auto& client : store_.installed_clients(original)) {
            auto [it, fresh] = by_target.try_emplace(client.previous_version_id);
            BackoutGroup& group = it->second;
            if (fresh) {
                group.original = original;
                if (client.previous_version_id != 0) {
                    group.action = "install";
                    group.package_version_id = client.previous_version_id;
                    group.version = client.previous_version;
                } else {
                    group.action = "uninstall";
                    group.package_version_id =
                        store_.package_version_id(original.package, original.version);
                    group.version = original.version;
                }
                group.plan = override_plan ? *override_plan : plan_like(rollouts_, original);
            }
            group.clients.push_back(client.client_id);
            ++result.clients;
        }
        for (auto& [target, group] : by_target) groups.push_back(std::move(group));
    }
    const std::int64_t now = clock_();
    std::vector<ChangeLogEntry> entries = {
        {now, who.name, "release.transition", reference, *state, "backed-out: " + reason},
        {now, who.name, "release.backout", reference, "",
         std::to_string(result.clients) + " client(s) to return, in " +
             std::to_string(groups.size()) + " backout advertisement(s)"}};
    result.rollouts = store_.apply(reference, *state, groups, who.name, now, entries);
    RolloutService engine(rollouts_, clock_);
    for (const std::int64_t id : result.rollouts) engine.tick_one(id);  // placed, first wave on
    return result;
}

}  // namespace ferry::server
