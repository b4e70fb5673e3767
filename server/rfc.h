// Requests for change (DESIGN §6, PROCESS.md): filed by a requester, approved by the change
// advisory board when `needed` members approve (never the requester), rejected by any one
// member's reject, each decision in the change log. The store persists an RFC together with
// its votes; RfcService holds the rules and knows nothing of HTTP or SQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "user_service.h"

namespace ferry::server {

struct RfcVote {
    std::string voter;
    std::string decision;  // approve | reject
    std::string reason;
    std::int64_t at = 0;
};

struct Rfc {
    std::int64_t id = 0;  // shown as RFC-0001
    std::string title;
    std::string description;
    std::string business_need;
    std::string risk = "medium";  // low | medium | high
    std::string requester;
    std::string state = "submitted";  // submitted | approved | rejected | implemented
    int needed = 1;
    std::int64_t created_at = 0;
    std::vector<RfcVote> votes;
    std::vector<std::string> releases;  // references of the releases that carry it
};

std::string rfc_number(std::int64_t id);  // 7 -> "RFC-0007"
std::optional<std::int64_t> parse_rfc_number(const std::string& text);

class RfcStore {
  public:
    virtual ~RfcStore() = default;
    // Returns the new id; the RFC and its log entry together.
    virtual std::int64_t create(const Rfc& rfc, const ChangeLogEntry& entry) = 0;
    virtual std::optional<Rfc> find(std::int64_t id) = 0;
    virtual std::vector<Rfc> list() = 0;
    // Records the vote, the new state and the log entry together. Error(AlreadyExists) when
    // the voter already voted.
    virtual void vote(std::int64_t id, const RfcVote& vote, const std::string& new_state,
                      const ChangeLogEntry& entry) = 0;
};

struct NewRfc {
    std::string title;
    std::string description;
    std::string business_need;
    std::string risk = "medium";
    std::optional<int> needed;  // default: 2 for high risk, else 1
};

class RfcService {
  public:
    RfcService(RfcStore& store, Clock clock) : store_(store), clock_(std::move(clock)) {}

    Rfc submit(const Principal& requester, const NewRfc& request);
    // Error(Conflict) naming the current state unless it is "submitted"; Error(Forbidden) for
    // the requester's own RFC; Error(AlreadyExists) for a second vote.
    Rfc approve(const Principal& voter, std::int64_t id, const std::string& reason);
    Rfc reject(const Principal& voter, std::int64_t id, const std::string& reason);
    Rfc show(const Principal& reader, std::int64_t id);
    std::vector<Rfc> list(const Principal& reader);

  private:
    Rfc vote(const Principal& voter, std::int64_t id, const std::string& decision,
             const std::string& reason);
    RfcStore& store_;
    Clock clock_;
};

}  // namespace ferry::server
