// The user-facing commands of ferry-agent (status, list, install, postpone, rollback,
// inventory): what they print and how they change the state. The daemon runs them for the
// control socket; without a daemon the program runs them itself.
#include <cstdio>
#include <ctime>
#include <sstream>

#include "agent.h"
#include "ferry/error.h"
#include "inventory.h"
#include "scheduler.h"

namespace ferry::agent {

namespace {

std::string when(std::int64_t t) {
    if (t <= 0) return "-";
    const std::time_t time = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&time, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &tm);
    return text;
}

std::string pad(const std::string& text, std::size_t width) {
    return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

CommandResult refused(const std::string& message, int code = 1) {
    return {code, "", "ferry-agent: " + message + "\n"};
}

}  // namespace

CommandResult Agent::not_in_policy(const std::string& id) {
    if (state_.policy() && !active_policy(nullptr))
        return refused("the accepted policy has expired, so nothing new starts (" + id +
                       " included) until the site sends a fresh one; ferry-agent status shows "
                       "when it expired");
    return refused(id + " is not in this client's policy (ferry-agent list shows it)", 2);
}

CommandResult Agent::status() {
    std::ostringstream out;
    const auto enrolment = state_.enrolment();
    if (!enrolment) return refused("not enrolled: run ferry-agent enroll --server URL --secret S");
    out << "client      " << enrolment->client_id << " at " << enrolment->server << "\n";
    if (const auto policy = state_.policy()) {
        const Policy parsed = Policy::parse(policy->json, "the accepted policy");
        out << "policy      version " << policy->version << ", accepted "
            << when(policy->accepted_at) << " UTC, expires " << when(parsed.expires_at) << " UTC"
            << (parsed.expires_at <= now() ? " (EXPIRED: nothing new starts)" : "") << "\n";
    } else {
        out << "policy      none accepted yet\n";
    }
    const auto [refusal, refused_at] = state_.policy_refusal();
    if (!refusal.empty())
        out << "refused     at " << when(refused_at) << " UTC: " << refusal << "\n";
    if (const auto journal = state_.open_journal())
        out << "in progress " << journal->operation << " of " << journal->package << " (step "
            << journal->step << ")\n";
    out << "outbox      " << state_.unsent_count() << " status message(s) not yet acknowledged\n";
    const auto versions = state_.all_versions();
    std::size_t installed = 0;
    for (const auto& v : versions) installed += v.role == "current";
    out << "installed   " << installed << " package(s); `ferry-agent list` shows them\n";
    return {0, out.str(), ""};
}

CommandResult Agent::list() {
    std::ostringstream out;
    const auto policy = active_policy(nullptr);
    out << pad("ADVERTISEMENT", 14) << pad("PACKAGE", 20) << pad("ACTION", 10) << pad("STATE", 13)
        << pad("NEXT (UTC)", 17) << pad("DEADLINE (UTC)", 17) << "POSTPONES LEFT\n";
    if (policy) {
        for (const auto& ad : policy->advertisements) {
            const auto r = state_.advertisement(ad.id).value_or(AdvertisementRecord{});
            const std::string state = r.state.empty() ? "-" : r.state;
            const int left = std::max(0, ad.postpone_max - r.postpones_used);
            out << pad(ad.id, 14) << pad(ad.package + "@" + ad.version, 20) << pad(ad.action, 10)
                << pad(state, 13) << pad(when(r.next_at), 17)
                << pad(ad.deadline ? when(*ad.deadline) : "-", 17)
                << (ad.mandatory ? std::to_string(left) : "optional") << "\n";
            if (!r.detail.empty()) out << "    " << r.detail << "\n";
        }
    }
    out << "\n" << pad("INSTALLED", 20) << pad("CURRENT", 12) << "PREVIOUS (kept for rollback)\n";
    std::map<std::string, std::pair<std::string, std::string>> packages;
    for (const auto& v : state_.all_versions())
        (v.role == "current" ? packages[v.name].first : packages[v.name].second) = v.version;
    for (const auto& [name, pair] : packages)
        out << pad(name, 20) << pad(pair.first.empty() ? "-" : pair.first, 12)
            << (pair.second.empty() ? "-" : pair.second) << "\n";
    return {0, out.str(), ""};
}

CommandResult Agent::install_now(const std::string& id) {
    std::vector<std::string> recovered;
    recover_interrupted(recovered);
    const auto policy = active_policy(nullptr);
    const PolicyAdvertisement* ad = policy ? find_advertisement(*policy, id) : nullptr;
    if (!ad) return not_in_policy(id);
    AdvertisementRecord r = state_.advertisement(id).value_or(AdvertisementRecord{});
    r.id = id;
    if (r.done_object == ad->object_id && (r.state == "installed" || r.state == "uninstalled"))
        return {0, id + ": already " + r.state + "\n", ""};
    // The user asked: run it again even after a failure or a rollback.
    r.user_requested = true;
    r.done_object.clear();
    r.attempts = 0;
    state_.save_advertisement(r);
    std::vector<std::string> log;
    const Decision decision = decide(*ad, memory_of(r), now());
    if (decision.next != Next::Act) {
        r.user_requested = false;
        state_.save_advertisement(r);
        return refused(id + " cannot start now: " + decision.why);
    }
    handle(*policy, *ad, log);
    send_outbox(log);
    send_inventory(log, false);
    const auto after = state_.advertisement(id).value_or(r);
    const bool ok = after.state == "installed" || after.state == "uninstalled";
    return {ok ? 0 : 1, ok ? id + ": " + after.state + ": " + after.detail + "\n" : "",
            ok ? "" : "ferry-agent: " + id + ": " + after.state + ": " + after.detail + "\n"};
}

CommandResult Agent::postpone(const std::string& id, std::int64_t seconds) {
    const auto policy = active_policy(nullptr);
    const PolicyAdvertisement* ad = policy ? find_advertisement(*policy, id) : nullptr;
    if (!ad) return not_in_policy(id);
    AdvertisementRecord r = state_.advertisement(id).value_or(AdvertisementRecord{});
    r.id = id;
    if (is_final_state(r.state) && r.done_object == ad->object_id)
        return refused(id + " is already " + r.state + "; there is nothing to postpone");
    const PostponeAnswer answer = ferry::agent::postpone(*ad, memory_of(r), now(), seconds);
    if (!answer.allowed) return refused(id + ": postpone refused: " + answer.why);
    r.postpones_used = answer.memory.postpones_used;
    r.postponed_total_s = answer.memory.postponed_total_s;
    r.postponed_until = answer.memory.postponed_until;
    r.user_requested = answer.memory.user_requested;
    r.next_at = answer.until;
    record(r, "postponed", "postponed until " + when(answer.until) + " UTC by the user");
    std::vector<std::string> log;
    send_outbox(log);
    return {0,
            id + ": postponed until " + when(answer.until) + " UTC (" +
                std::to_string(std::max(0, ad->postpone_max - r.postpones_used)) +
                " postpone(s) left)" + (answer.why.empty() ? "" : "; " + answer.why) + "\n",
            ""};
}

CommandResult Agent::rollback(const std::string& package) {
    std::vector<std::string> recovered;
    recover_interrupted(recovered);
    const auto current = state_.version(package, "current");
    Outcome outcome;
    try {
        outcome = installer_.rollback(package);
    } catch (const Error& e) {
        return refused(std::string("rollback refused: ") + e.what(),
                       e.code() == ErrorCode::NotFound ? 2 : 1);
    }
    // The advertisement that brought the version rolled away from hears of it; a failed
    // rollback changed nothing for it.
    if (current && !current->advertisement.empty() && outcome.state == "rolled-back") {
        AdvertisementRecord r =
            state_.advertisement(current->advertisement).value_or(AdvertisementRecord{});
        r.id = current->advertisement;
        record(r, "rolled-back", outcome.detail + " by the user", outcome.exit_code,
               outcome.log_tail);
    }
    changed_software_ = true;
    std::vector<std::string> log;
    send_outbox(log);
    send_inventory(log, false);
    const bool ok = outcome.state == "rolled-back";
    return {ok ? 0 : 1, ok ? outcome.detail + "\n" : "",
            ok ? "" : "ferry-agent: " + outcome.detail + "\n"};
}

CommandResult Agent::inventory(bool json) {
    const Inventory inventory = current_inventory();
    if (json) return {0, inventory_to_json(inventory), ""};
    std::ostringstream out;
    out << "facts:\n";
    for (const auto& [key, value] : inventory.facts) {
        out << "  " << pad(key, 28);
        std::visit([&](const auto& v) { out << v; }, value);
        out << "\n";
    }
    out << "software: " << inventory.software.size() << " package(s)\n";
    for (const auto& [name, version] : inventory.software)
        out << "  " << pad(name, 40) << version << "\n";
    return {0, out.str(), ""};
}

}  // namespace ferry::agent
