#include "release.h"

#include <algorithm>
#include <set>

#include "ferry/error.h"
#include "ferry/json.h"
#include "rfc.h"

namespace ferry::server {
namespace {

const std::vector<std::string> kStates = {"planning",  "building",  "testing", "ready",
                                          "deploying", "deployed",  "closed",  "suspended",
                                          "cancelled", "backed-out"};

// The forward path; suspension, cancellation and backout are handled apart.
const std::vector<std::pair<std::string, std::string>> kForward = {
    {"planning", "building"}, {"building", "testing"},   {"testing", "ready"},
    {"ready", "deploying"},   {"deploying", "deployed"}, {"deployed", "closed"}};

bool one_of(const std::string& value, std::initializer_list<const char*> options) {
    return std::any_of(options.begin(), options.end(),
                       [&](const char* option) { return value == option; });
}

std::string join_items(const std::vector<int>& items) {
    std::string out;
    for (int item : items) {
        if (!out.empty()) out += ", ";
        out += std::to_string(item);
    }
    return out;
}

void check_text(const std::string& value, const std::string& field, std::size_t max,
                bool required) {
    if (required && value.empty())
        throw Error(ErrorCode::InvalidInput, "field \"" + field + "\": required");
    if (value.size() > max || !json::is_printable(value))
        throw Error(ErrorCode::InvalidInput, "field \"" + field + "\": must be at most " +
                                                 std::to_string(max) + " printable characters");
}

}  // namespace

const std::vector<ReadinessItem>& readiness_checklist() {
    static const std::vector<ReadinessItem> items = {
        {1, "the order of deployment to the target groups is set", Role::ReleaseManager},
        {2, "the release is aligned with business priorities", Role::ReleaseManager},
        {3, "the deployment plans exist", Role::ReleaseManager},
        {4, "each action in the plans has an owner", Role::ReleaseManager},
        {5, "a survey of the target group raised no blocking issue", Role::ReleaseManager},
        {6, "all plans are signed off by the right managers", Role::Cab},
        {7, "resources are available where needed", Role::Admin},
        {8, "communications to all affected groups are done", Role::ReleaseManager},
        {9, "administration and support staff are trained", Role::Admin},
        {10, "the production environment is ready", Role::Admin},
        {11, "related changes are approved in line with service levels", Role::Cab},
    };
    return items;
}

bool is_release_state(const std::string& state) {
    return std::find(kStates.begin(), kStates.end(), state) != kStates.end();
}

ReleasePackage parse_package_ref(const std::string& text, const std::string& field) {
    const auto at = text.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == text.size() || text.size() > 200 ||
        !json::is_printable(text)) {
        throw Error(ErrorCode::InvalidInput,
                    "field \"" + field + "\": \"" + text.substr(0, 60) + "\" is not NAME@VERSION");
    }
    return {text.substr(0, at), text.substr(at + 1)};
}

void ReleaseService::check_can_manage(const Principal& who, const std::string& action) const {
    UserService::require(who, Permission::ManageReleases, action);
}

Release ReleaseService::find(const std::string& reference) {
    auto release = store_.find(reference);
    if (!release) throw Error(ErrorCode::NotFound, "no release " + reference.substr(0, 40));
    return *release;
}

Release ReleaseService::create(const Principal& who, const NewRelease& request) {
    check_can_manage(who, "create releases");
    check_text(request.title, "title", 200, true);
    check_text(request.description, "description", 8000, false);
    if (!one_of(request.priority, {"low", "medium", "high", "critical"}))
        throw Error(ErrorCode::InvalidInput,
                    "field \"priority\": must be low, medium, high or critical");
    if (request.rfcs.empty())
        throw Error(ErrorCode::InvalidInput, "field \"rfcs\": a release carries at least one RFC");
    if (request.packages.empty())
        throw Error(ErrorCode::InvalidInput,
                    "field \"packages\": a release carries at least one package");
    Release release;
    for (std::int64_t rfc : std::set<std::int64_t>(request.rfcs.begin(), request.rfcs.end())) {
        const auto state = store_.rfc_state(rfc);
        if (!state) throw Error(ErrorCode::NotFound, "no " + rfc_number(rfc));
        if (*state != "approved")
            throw Error(ErrorCode::Conflict,
                        rfc_number(rfc) + " is " + *state + "; a release carries approved RFCs");
        release.rfcs.push_back(rfc);
    }
    for (const auto& package : request.packages) {
        const auto standing = store_.package(package);
        if (!standing)
            throw Error(ErrorCode::NotFound,
                        "no package " + package.name + "@" + package.version + " in the DSL");
        if (standing->retired)
            throw Error(ErrorCode::Conflict, package.name + "@" + package.version + " is retired");
        release.packages.push_back(package);
    }
    release.title = request.title;
    release.description = request.description;
    release.priority = request.priority;
    release.created_by = who.name;
    release.created_at = release.updated_at = clock_();
    return store_.create(release, ChangeLogEntry{release.created_at, who.name, "release.create",
                                                 release.title, "", "planning"});
}

Release ReleaseService::show(const Principal& who, const std::string& reference) {
    UserService::require(who, Permission::ReadSite, "read releases");
    return find(reference);
}

std::vector<Release> ReleaseService::list(const Principal& who) {
    UserService::require(who, Permission::ReadSite, "read releases");
    return store_.list();
}

Release ReleaseService::add_package(const Principal& who, const std::string& reference,
                                    const ReleasePackage& package) {
    check_can_manage(who, "change releases");
    Release release = find(reference);
    if (!one_of(release.state, {"planning", "building"}))
        throw Error(ErrorCode::Conflict, release.reference + " is " + release.state +
                                             "; packages are added while planning or building");
    const auto standing = store_.package(package);
    if (!standing)
        throw Error(ErrorCode::NotFound,
                    "no package " + package.name + "@" + package.version + " in the DSL");
    if (standing->retired)
        throw Error(ErrorCode::Conflict, package.name + "@" + package.version + " is retired");
    for (const auto& existing : release.packages) {
        if (existing.name == package.name && existing.version == package.version)
            throw Error(ErrorCode::AlreadyExists, release.reference + " already carries " +
                                                      package.name + "@" + package.version);
    }
    release.packages.push_back(package);
    release.updated_at = clock_();
    store_.update(release, release.state,
                  ChangeLogEntry{release.updated_at, who.name, "release.add-package",
                                 release.reference, "", package.name + "@" + package.version});
    return release;
}

std::vector<int> ReleaseService::items_missing(const Release& release) {
    std::vector<int> missing;
    for (const auto& item : readiness_checklist()) {
        const bool go = std::any_of(
            release.signoffs.begin(), release.signoffs.end(),
            [&](const SignOff& s) { return s.item == item.number && s.decision == "go"; });
        if (!go) missing.push_back(item.number);
    }
    return missing;
}

// What stands between `release` and `target`, or "" when nothing does (the move is allowed).
std::string ReleaseService::missing_for(const Release& release, const std::string& target) {
    const std::string& from = release.state;
    if (target == "suspended") {
        return one_of(from, {"building", "testing", "ready", "deploying"})
                   ? ""
                   : "only a building, testing, ready or deploying release can be suspended";
    }
    if (target == "cancelled") {
        return one_of(from, {"planning", "building", "testing", "ready", "suspended"})
                   ? ""
                   : "a release that has started deploying is backed out, not cancelled";
    }
    if (target == "backed-out") {
        return one_of(from, {"deploying", "deployed"}) ? ""
                                                       : "only a deploying or deployed release "
                                                         "can be backed out";
    }
    if (from == "suspended") {
        return target == release.suspended_from
                   ? ""
                   : "a suspended release resumes to " + release.suspended_from;
    }
    const bool forward = std::any_of(kForward.begin(), kForward.end(), [&](const auto& step) {
        return step.first == from && step.second == target;
    });
    if (!forward) {
        for (const auto& step : kForward) {
            if (step.first == from) return "the next state is " + step.second;
        }
        return "it is final";
    }
    if (target == "testing") {
        for (const auto& package : release.packages) {
            const auto standing = store_.package(package);
            if (!standing || standing->retired)
                return "package " + package.name + "@" + package.version + " is retired";
        }
    }
    if (target == "ready") {
        const auto missing = items_missing(release);
        if (!missing.empty())
            return "a go on readiness item(s) " + join_items(missing) + " (review round " +
                   std::to_string(release.review_round) + ")";
    }
    return "";
}

Release ReleaseService::transition(const Principal& who, const std::string& reference,
                                   const std::string& target, const std::string& reason) {
    check_can_manage(who, "move releases");
    if (!is_release_state(target))
        throw Error(ErrorCode::InvalidInput,
                    "field \"state\": \"" + target.substr(0, 40) + "\" is not a release state");
    check_text(reason, "reason", 4000, one_of(target, {"suspended", "cancelled", "backed-out"}));
    if (target == "backed-out")
        throw Error(ErrorCode::Conflict,
                    "a release is backed out with POST /api/v1/releases/" + reference +
                        "/backout (ferryctl release backout " + reference +
                        " --reason …): it returns every client to its previous version");
    Release release = find(reference);
    const std::string missing = missing_for(release, target);
    if (!missing.empty()) {
        throw Error(ErrorCode::Conflict, release.reference + " is " + release.state + "; " +
                                             target + " needs: " + missing);
    }
    if (target == "closed" && reason.size() < 10)
        throw Error(ErrorCode::InvalidInput,
                    "field \"reason\": closing " + release.reference +
                        " needs the post-deployment review (at least 10 characters)");
    const std::string before = release.state;
    release.suspended_from = target == "suspended" ? before : "";
    release.state = target;
    if (target == "closed") {
        release.closing_review = reason;
        if (results_) release.closing_results = results_(release.reference);
    }
    release.updated_at = clock_();
    store_.update(
        release, before,
        ChangeLogEntry{release.updated_at, who.name, "release.transition", release.reference,
                       before, target + (reason.empty() ? "" : ": " + reason)});
    return release;
}

Release ReleaseService::review(const Principal& who, const std::string& reference, int item,
                               const std::string& decision, const std::string& note) {
    UserService::require(who, Permission::ReadSite, "sign readiness reviews");
    const auto& checklist = readiness_checklist();
    const auto found = std::find_if(checklist.begin(), checklist.end(),
                                    [&](const ReadinessItem& i) { return i.number == item; });
    if (found == checklist.end())
        throw Error(ErrorCode::InvalidInput, "field \"item\": readiness items are numbered 1 to " +
                                                 std::to_string(checklist.size()));
    if (decision != "go" && decision != "no-go")
        throw Error(ErrorCode::InvalidInput, "field \"decision\": must be go or no-go");
    check_text(note, "note", 2000, decision == "no-go");
    if (who.role != found->signer)
        throw Error(ErrorCode::Forbidden, std::string("readiness item ") + std::to_string(item) +
                                              " is signed by the " + role_name(found->signer) +
                                              " role, not " + role_name(who.role));
    Release release = find(reference);
    if (release.state != "testing")
        throw Error(ErrorCode::Conflict, release.reference + " is " + release.state +
                                             "; the readiness review happens while testing");
    const SignOff signoff{item, decision, who.name, role_name(who.role), note, clock_()};
    std::vector<ChangeLogEntry> entries = {
        {signoff.at, who.name, "release.review", release.reference, "",
         "round " + std::to_string(release.review_round) + " item " + std::to_string(item) + " " +
             decision + (note.empty() ? "" : ": " + note)}};
    release.signoffs.erase(
        std::remove_if(release.signoffs.begin(), release.signoffs.end(),
                       [&](const SignOff& s) { return s.item == item && s.signer == who.name; }),
        release.signoffs.end());
    release.signoffs.push_back(signoff);
    const bool send_back = decision == "no-go";
    if (send_back) {
        // PROCESS.md §4: a no-go sends the release back for rework; the next review starts afresh.
        entries.push_back({signoff.at, who.name, "release.transition", release.reference, "testing",
                           "building: no-go on readiness item " + std::to_string(item)});
        release.state = "building";
        release.review_round += 1;
        release.signoffs.clear();
        release.updated_at = signoff.at;
    }
    store_.sign(release, signoff, entries, send_back);
    return release;
}

}  // namespace ferry::server
