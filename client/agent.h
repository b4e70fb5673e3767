// Agent: one workstation's side of Ferry (DESIGN §8). A cycle recovers whatever a kill
// interrupted, polls the signed policy, pre-stages the content it names, acts on the
// advertisements that are due, sends the status outbox and the inventory. The user-facing
// commands (install now, postpone, rollback, list…) act on the same state, through the daemon
// when it runs (control_socket.h) or directly when it does not.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent_paths.h"
#include "agent_state.h"
#include "ferry/policy.h"
#include "installer.h"
#include "inventory.h"
#include "scheduler.h"
#include "site_link.h"

namespace ferry::agent {

struct AgentOptions {
    std::function<std::int64_t()> clock;           // unix seconds; injectable for tests
    std::uint64_t cache_limit_bytes = 4ULL << 30;  // least recently used objects go past it
    int max_interrupted_attempts = 3;              // installs a kill interrupted, then failed
    std::int64_t inventory_interval_s = 3600;      // a change check at least this often
    std::string system_root = "/";                 // where inventory reads /proc, /etc…
};

// What a command prints and how it exits (0 done, 1 refused, 2 bad input).
struct CommandResult {
    int exit_code = 0;
    std::string out;
    std::string err;
};

const PolicyAdvertisement* find_advertisement(const Policy& policy, const std::string& id);
// States after which an advertisement needs nothing more for the same object.
bool is_final_state(const std::string& state);
// The scheduler's view of what the agent remembers of an advertisement.
AdvertisementMemory memory_of(const AdvertisementRecord& record);

// Makes the link to the network for the enrolment and the sources the policy names (DPs).
using LinkFactory =
    std::function<std::unique_ptr<SiteLink>(const Enrolment&, const std::vector<std::string>&)>;

class Agent {
  public:
    Agent(AgentPaths paths, AgentOptions options, LinkFactory link_factory);
    // The installer holds a reference to the state: an Agent stays where it was built.
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    // Enrols with the site and pins its key. Error(Conflict) when already enrolled.
    // `expected_site_key` (the base64 line of the site's .pub, or empty): when given, a site
    // that answers with another key is refused (Error(VerificationFailed)), so the pin cannot
    // come from someone in the middle.
    static Enrolment enroll(const AgentPaths& paths, const std::string& server,
                            const std::string& secret, const std::string& hostname,
                            std::int64_t now, const std::string& expected_site_key = "");

    // One full cycle; the lines say what happened (for the log). Never throws for a network
    // failure: it is logged and the cycle goes on with what it has.
    std::vector<std::string> cycle();
    // When the next cycle should run at the latest, given what the scheduler wants.
    std::int64_t next_wakeup(std::int64_t poll_interval_s);

    CommandResult status();
    CommandResult list();
    CommandResult install_now(const std::string& advertisement);
    CommandResult postpone(const std::string& advertisement, std::int64_t seconds);
    CommandResult rollback(const std::string& package);
    CommandResult inventory(bool json);

    // Finishes or undoes an operation a kill interrupted; every entry point runs it first.
    void recover_interrupted(std::vector<std::string>& log);
    // The inventory as it would be reported now.
    Inventory current_inventory();

    AgentState& state() { return state_; }
    Installer& installer() { return installer_; }

  private:
    std::int64_t now() const { return options_.clock(); }
    CommandResult not_in_policy(const std::string& advertisement);
    SiteLink& link();
    void poll_policy(std::vector<std::string>& log);
    std::optional<Policy> active_policy(std::vector<std::string>* log);
    void act_on(const Policy& policy, std::vector<std::string>& log);
    void handle(const Policy& policy, const PolicyAdvertisement& ad, std::vector<std::string>& log);
    bool prestage(const PolicyAdvertisement& ad, AdvertisementRecord& record,
                  std::vector<std::string>& log);
    struct PlannedInstall {
        const PolicyAdvertisement* ad;
        Manifest manifest;
    };
    // Dependencies first, `ad` last; a refusal (cycle, missing, bad object) instead of a plan.
    std::optional<Outcome> plan_install(const Policy& policy, const PolicyAdvertisement& ad,
                                        std::vector<std::string>& stack,
                                        std::vector<PlannedInstall>& plan,
                                        std::vector<std::string>& log);
    Outcome install_with_dependencies(const Policy& policy, const PolicyAdvertisement& ad,
                                      std::vector<std::string>& log);
    void record(AdvertisementRecord& record, const std::string& state, const std::string& detail,
                std::optional<int> exit_code = std::nullopt, const std::string& log_tail = "");
    void send_outbox(std::vector<std::string>& log);
    void send_inventory(std::vector<std::string>& log, bool force);
    void evict_cache();
    std::string object_path(const std::string& object_id) const;

    AgentPaths paths_;
    AgentOptions options_;
    AgentState state_;
    Installer installer_;
    LinkFactory link_factory_;
    std::vector<std::string> link_sources_;  // what link_ was made for
    std::unique_ptr<SiteLink> link_;
    bool changed_software_ = false;
    std::int64_t last_inventory_check_ = 0;
};

}  // namespace ferry::agent
