#include "advertisement.h"

#include <algorithm>
#include <cstdio>

#include "ferry/error.h"
#include "ferry/json.h"
#include "ferry/maintenance_window.h"

namespace ferry::server {

std::string advertisement_number(std::int64_t id) {
    char text[32];
    std::snprintf(text, sizeof text, "ADV-%04lld", static_cast<long long>(id));
    return text;
}

std::optional<std::int64_t> parse_advertisement_number(const std::string& text) {
    std::string digits = text.rfind("ADV-", 0) == 0 ? text.substr(4) : text;
    if (digits.empty() || digits.size() > 15 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return std::stoll(digits);
}

void check_window(const std::string& window) {
    // One grammar for the site and the agent that evaluates the windows.
    try {
        MaintenanceWindow::parse(window);
    } catch (const Error& e) {
        throw e.with_context("field \"windows\"");
    }
}

bool is_client_state(const std::string& state) {
    static const std::vector<std::string> states = {
        "available", "downloading", "downloaded",  "waiting",      "postponed",   "installing",
        "installed", "failed",      "rolled-back", "uninstalling", "uninstalled", "refused"};
    return std::find(states.begin(), states.end(), state) != states.end();
}

Advertisement AdvertisementService::create(const Principal& who, const NewAdvertisement& request) {
    UserService::require(who, Permission::Advertise, "advertise packages");
    if (request.action != "install" && request.action != "uninstall")
        throw Error(ErrorCode::InvalidInput, "field \"action\": must be install or uninstall");
    const std::int64_t now = clock_();
    const std::int64_t available = request.available_at.value_or(now);
    if (request.deadline && *request.deadline <= available)
        throw Error(ErrorCode::InvalidInput,
                    "field \"deadline\": must be after the available time");
    if (request.postpone_max < 0 || request.postpone_max > 100)
        throw Error(ErrorCode::InvalidInput, "field \"postpone_max\": must be 0 to 100");
    if (request.postpone_max_delay_s < 0)
        throw Error(ErrorCode::InvalidInput, "field \"postpone_max_delay\": negative");
    if (request.windows.size() > 20)
        throw Error(ErrorCode::InvalidInput, "field \"windows\": at most 20 windows");
    for (const auto& window : request.windows) check_window(window);

    const std::string package = request.package + "@" + request.version;
    const AdvertisementTarget target =
        store_.target(request.package, request.version, request.collection);
    if (target.retired)
        throw Error(ErrorCode::Conflict, package + " is retired and takes no new advertisements");
    // The gates (DESIGN §6): which release carries it, and is that release far enough along.
    std::vector<std::pair<std::string, std::string>> candidates;
    for (const auto& [reference, state] : target.releases) {
        if (!request.release || *request.release == reference)
            candidates.emplace_back(reference, state);
    }
    if (candidates.empty())
        throw Error(ErrorCode::Conflict, request.release
                                             ? *request.release + " does not carry " + package
                                             : package +
                                                   " is in no release; create one with an approved "
                                                   "RFC first");
    if (candidates.size() > 1)
        throw Error(ErrorCode::Conflict, package +
                                             " is carried by several releases; name one "
                                             "with \"release\"");
    const auto& [reference, state] = candidates.front();
    // A rollout passes the gates wave by wave: here its first wave, the others when they start.
    const bool pilot = request.rollout ? request.rollout->waves.front().pilot : target.pilot;
    const bool allowed = pilot ? (state == "testing" || state == "ready" || state == "deploying")
                               : (state == "ready" || state == "deploying");
    if (!allowed) {
        throw Error(
            ErrorCode::Conflict,
            reference + " is " + state + "; " +
                (pilot ? "a pilot collection needs the release testing, ready or "
                         "deploying"
                       : (request.rollout ? "the first wave" : "collection " + request.collection) +
                             " is production: the release must be ready (readiness "
                             "review passed) or deploying"));
    }
    Advertisement ad;
    ad.package = request.package;
    ad.version = request.version;
    ad.release = reference;
    ad.collection = request.collection;
    ad.action = request.action;
    ad.available_at = available;
    ad.deadline = request.deadline;
    ad.mandatory = request.mandatory;
    ad.postpone_max = request.postpone_max;
    ad.postpone_max_delay_s = request.postpone_max_delay_s;
    ad.windows = request.windows;
    ad.created_by = who.name;
    ad.created_at = now;
    // A rollout moves the release when its first production wave starts (RolloutService).
    const bool start_deploying = !request.rollout && !target.pilot && state == "ready";
    std::vector<ChangeLogEntry> entries = {{now, who.name, "advertisement.create", package, "",
                                            ad.action + " on " + ad.collection +
                                                (target.pilot ? " (pilot)" : "") + ", " +
                                                reference + (ad.mandatory ? ", mandatory" : "")}};
    if (start_deploying)
        entries.push_back({now, who.name, "release.transition", reference, "ready",
                           "deploying: first production advertisement"});
    if (request.rollout)
        entries.front().after += ", in " + std::to_string(request.rollout->waves.size()) + " waves";
    ad.id = store_.create(ad, target.package_version_id, target.collection_id, start_deploying,
                          request.rollout ? &*request.rollout : nullptr, entries);
    return ad;
}

Advertisement AdvertisementService::show(const Principal& reader, std::int64_t id) {
    UserService::require(reader, Permission::ReadSite, "read advertisements");
    auto ad = store_.find(id);
    if (!ad) throw Error(ErrorCode::NotFound, "no " + advertisement_number(id));
    return *ad;
}

std::vector<Advertisement> AdvertisementService::list(const Principal& reader) {
    UserService::require(reader, Permission::ReadSite, "read advertisements");
    return store_.list();
}

Advertisement AdvertisementService::change_state(const Principal& who, std::int64_t id,
                                                 const std::string& to, const std::string& reason) {
    UserService::require(who, Permission::Advertise, "halt, resume or cancel advertisements");
    Advertisement ad = show(who, id);
    const std::string number = advertisement_number(id);
    if (ad.rollout_id != 0)
        throw Error(ErrorCode::Conflict, number + " is deployed by " +
                                             rollout_number(ad.rollout_id) +
                                             ": halt, resume or cancel the rollout");
    const bool allowed = (to == "halted" && ad.state == "active") ||
                         (to == "active" && ad.state == "halted") ||
                         (to == "cancelled" && ad.state != "cancelled");
    if (!allowed) {
        throw Error(ErrorCode::Conflict,
                    number + " is " + ad.state + "; " +
                        (to == "halted"   ? "only an active advertisement can be halted"
                         : to == "active" ? "only a halted advertisement can be resumed"
                                          : "it is already cancelled"));
    }
    if (to == "active") {
        // Resuming passes the gates again: the release may have been suspended meanwhile.
        const auto target = store_.target(ad.package, ad.version, ad.collection);
        const auto release = target.releases.find(ad.release);
        const std::string state = release == target.releases.end() ? "finished" : release->second;
        const bool allowed =
            state == "ready" || state == "deploying" || (target.pilot && state == "testing");
        if (!allowed)
            throw Error(ErrorCode::Conflict,
                        number + " cannot resume: " + ad.release + " is " + state);
    }
    if (reason.size() > 2000 || !json::is_printable(reason))
        throw Error(ErrorCode::InvalidInput, "field \"reason\": at most 2000 printable characters");
    const std::int64_t now = clock_();
    if (!store_.set_state(id, ad.state, to,
                          ChangeLogEntry{now, who.name, "advertisement.state", number, ad.state,
                                         to + (reason.empty() ? "" : ": " + reason)}))
        throw Error(ErrorCode::Conflict, number + " changed meanwhile; read it again");
    ad.state = to;
    return ad;
}

StatusReport AdvertisementService::report(const Principal& reader, std::int64_t id) {
    show(reader, id);
    return store_.report(id, 100'000);
}

std::int64_t AdvertisementService::report_status(const Client& client,
                                                 const std::vector<StatusMessage>& messages) {
    if (messages.size() > kMaxStatusBatch)
        throw Error(ErrorCode::LimitExceeded, "field \"messages\": at most " +
                                                  std::to_string(kMaxStatusBatch) + " per batch");
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const auto& m = messages[i];
        const std::string where = "field \"messages[" + std::to_string(i) + "]";
        if (!is_client_state(m.state))
            throw Error(ErrorCode::InvalidInput,
                        where + ".state\": \"" + m.state.substr(0, 32) + "\" is not a status");
        if (m.log_tail.size() > 8192)
            throw Error(ErrorCode::InvalidInput, where + ".log_tail\": at most 8192 bytes");
    }
    return store_.add_status(client.id, messages, clock_());
}

}  // namespace ferry::server
