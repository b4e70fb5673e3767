#include "rfc.h"

#include <algorithm>
#include <cstdio>

#include "ferry/error.h"
#include "ferry/json.h"

namespace ferry::server {

std::string rfc_number(std::int64_t id) {
    char text[32];
    std::snprintf(text, sizeof text, "RFC-%04lld", static_cast<long long>(id));
    return text;
}

std::optional<std::int64_t> parse_rfc_number(const std::string& text) {
    if (text.size() < 5 || text.size() > 13 || text.compare(0, 4, "RFC-") != 0) return std::nullopt;
    const std::string digits = text.substr(4);
    if (digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoll(digits);
}

Rfc RfcService::submit(const Principal& requester, const NewRfc& request) {
    UserService::require(requester, Permission::SubmitRfc, "file requests for change");
    if (request.title.empty() || request.title.size() > 200 || !json::is_printable(request.title)) {
        throw Error(ErrorCode::InvalidInput, "field \"title\": must be 1-200 printable characters");
    }
    if (request.risk != "low" && request.risk != "medium" && request.risk != "high") {
        throw Error(ErrorCode::InvalidInput, "field \"risk\": must be low, medium or high");
    }
    Rfc rfc;
    rfc.title = request.title;
    rfc.description = request.description;
    rfc.business_need = request.business_need;
    rfc.risk = request.risk;
    rfc.requester = requester.name;
    rfc.needed = request.needed.value_or(request.risk == "high" ? 2 : 1);
    if (rfc.needed < 1 || rfc.needed > 20)
        throw Error(ErrorCode::InvalidInput, "field \"need\": must be between 1 and 20");
    rfc.created_at = clock_();
    rfc.id = store_.create(
        rfc, ChangeLogEntry{rfc.created_at, requester.name, "rfc.submit", rfc.title, "",
                            "submitted, needs " + std::to_string(rfc.needed) + " CAB approval(s)"});
    return rfc;
}

Rfc RfcService::vote(const Principal& voter, std::int64_t id, const std::string& decision,
                     const std::string& reason) {
    UserService::require(voter, Permission::VoteRfc, decision + " requests for change");
    auto rfc = store_.find(id);
    if (!rfc) throw Error(ErrorCode::NotFound, "no " + rfc_number(id));
    const std::string number = rfc_number(id);
    if (rfc->state != "submitted") {
        throw Error(ErrorCode::Conflict,
                    number + " is " + rfc->state + "; only a submitted RFC takes votes");
    }
    if (rfc->requester == voter.name)
        throw Error(ErrorCode::Forbidden,
                    voter.name + " requested " + number + " and may not vote on it");
    if (std::any_of(rfc->votes.begin(), rfc->votes.end(),
                    [&](const RfcVote& v) { return v.voter == voter.name; })) {
        throw Error(ErrorCode::AlreadyExists, voter.name + " has already voted on " + number);
    }
    if (decision == "reject" && reason.empty())
        throw Error(ErrorCode::InvalidInput, "field \"reason\": a rejection needs a reason");
    const std::int64_t now = clock_();
    const auto approvals =
        1 + std::count_if(rfc->votes.begin(), rfc->votes.end(),
                          [](const RfcVote& v) { return v.decision == "approve"; });
    const std::string new_state =
        decision == "reject" ? "rejected" : (approvals >= rfc->needed ? "approved" : "submitted");
    const RfcVote v{voter.name, decision, reason, now};
    store_.vote(id, v, new_state,
                ChangeLogEntry{now, voter.name, "rfc." + decision, number, rfc->state,
                               new_state +
                                   (decision == "approve" ? " (" + std::to_string(approvals) + "/" +
                                                                std::to_string(rfc->needed) + ")"
                                                          : "") +
                                   (reason.empty() ? "" : ": " + reason)});
    rfc->votes.push_back(v);
    rfc->state = new_state;
    return *rfc;
}

Rfc RfcService::approve(const Principal& voter, std::int64_t id, const std::string& reason) {
    return vote(voter, id, "approve", reason);
}

Rfc RfcService::reject(const Principal& voter, std::int64_t id, const std::string& reason) {
    return vote(voter, id, "reject", reason);
}

Rfc RfcService::show(const Principal& reader, std::int64_t id) {
    UserService::require(reader, Permission::ReadSite, "read requests for change");
    auto rfc = store_.find(id);
    if (!rfc) throw Error(ErrorCode::NotFound, "no " + rfc_number(id));
    return *rfc;
}

std::vector<Rfc> RfcService::list(const Principal& reader) {
    UserService::require(reader, Permission::ReadSite, "read requests for change");
    return store_.list();
}

}  // namespace ferry::server
