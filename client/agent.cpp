#include "agent.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <utility>

#include "ferry/error.h"
#include "ferry/hash.h"
#include "ferry/json.h"
#include "ferry/minisign.h"
#include "ferry/version_order.h"
#include "inventory.h"
#include "package_check.h"
#include "scheduler.h"

namespace ferry::agent {

namespace fs = std::filesystem;

namespace {

std::string utc(std::int64_t t) {
    if (t <= 0) return "-";
    const std::time_t time = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&time, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &tm);
    return text;
}

// "ADV-0007" named in a site's refusal of a status batch, or "".
std::string advertisement_named(const std::string& message) {
    const auto at = message.find("ADV-");
    if (at == std::string::npos) return {};
    auto end = at + 4;
    while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
    return message.substr(at, end - at);
}

// What the site accepts as a log tail: at most `max_bytes` of valid UTF-8 without control
// characters but line breaks and tabs. Script output is anything: terminal escapes, carriage
// returns, binary. Kept from the end, cut on a character boundary.
std::string printable_tail(const std::string& text, std::size_t max_bytes) {
    std::string clean;
    clean.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        const std::size_t length = c < 0x80         ? 1
                                   : (c >> 5) == 6  ? 2
                                   : (c >> 4) == 14 ? 3
                                   : (c >> 3) == 30 ? 4
                                                    : 0;
        bool valid = length != 0 && i + length <= text.size();
        for (std::size_t k = 1; valid && k < length; ++k)
            valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
        if (!valid) {
            clean += '?';
            ++i;
        } else if (length == 1 && ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)) {
            clean += c == '\r' ? '\n' : '?';
            ++i;
        } else {
            clean.append(text, i, length);
            i += length;
        }
    }
    if (clean.size() <= max_bytes) return clean;
    std::size_t start = clean.size() - max_bytes;
    while (start < clean.size() && (static_cast<unsigned char>(clean[start]) & 0xC0) == 0x80)
        ++start;
    return clean.substr(start);
}

}  // namespace

const PolicyAdvertisement* find_advertisement(const Policy& policy, const std::string& id) {
    for (const auto& ad : policy.advertisements)
        if (ad.id == id) return &ad;
    return nullptr;
}

bool is_final_state(const std::string& state) {
    return state == "installed" || state == "rolled-back" || state == "refused" ||
           state == "uninstalled";
}

AdvertisementMemory memory_of(const AdvertisementRecord& r) {
    AdvertisementMemory m;
    m.postpones_used = r.postpones_used;
    m.postponed_until = r.postponed_until;
    m.postponed_total_s = r.postponed_total_s;
    m.user_requested = r.user_requested;
    return m;
}

Agent::Agent(AgentPaths paths, AgentOptions options, LinkFactory link_factory)
    : paths_(std::move(paths)),
      options_(std::move(options)),
      state_((fs::create_directories(paths_.state_dir), paths_.database())),
      installer_(state_, paths_, options_.clock),
      link_factory_(std::move(link_factory)) {
    ::chmod(paths_.state_dir.c_str(), 0700);
}

Enrolment Agent::enroll(const AgentPaths& paths, const std::string& server,
                        const std::string& secret, const std::string& hostname, std::int64_t now,
                        const std::string& expected_site_key) {
    fs::create_directories(paths.state_dir);
    ::chmod(paths.state_dir.c_str(), 0700);
    AgentState state(paths.database());
    if (const auto existing = state.enrolment())
        throw Error(ErrorCode::Conflict, "already enrolled as " + existing->client_id + " with " +
                                             existing->server + " (state in " + paths.state_dir +
                                             ")");
    // A mistyped expected key must not cost the secret a use: checked before the site is asked.
    std::optional<minisign::PublicKey> expected;
    if (!expected_site_key.empty())
        expected = minisign::PublicKey::parse(expected_site_key, "--site-key");
    const EnrolAnswer answer = enrol_with_site(server, secret, hostname);
    // Pin only a key that parses: a site that sends garbage is refused now, not at first poll.
    const auto received =
        minisign::PublicKey::parse("untrusted comment: site\n" + answer.site_public_key + "\n",
                                   "site_public_key from " + server);
    if (expected) {
        if (*expected != received)
            throw Error(ErrorCode::VerificationFailed,
                        "the site at " + server + " presented the key " + received.key_id_hex() +
                            ", not the expected " + expected->key_id_hex() +
                            ": not enrolled (the client id it issued stays unused)");
    }
    Enrolment enrolment{server, answer.client_id, answer.token, answer.site_public_key,
                        now,    answer.state};
    state.save_enrolment(enrolment);
    return enrolment;
}

SiteLink& Agent::link() {
    // The sources come from the signed policy only: a DP cannot add itself.
    std::vector<std::string> sources;
    if (const auto stored = state_.policy())
        sources = Policy::parse(stored->json, "the accepted policy").sources;
    if (link_ && sources != link_sources_) link_.reset();
    if (!link_) {
        link_sources_ = sources;
        const auto enrolment = state_.enrolment();
        if (!enrolment)
            throw Error(
                ErrorCode::NotFound,
                "this agent is not enrolled: run ferry-agent enroll --server URL --secret S");
        link_ = link_factory_(*enrolment, sources);
    }
    return *link_;
}

std::string Agent::object_path(const std::string& object_id) const {
    return paths_.cache_dir() + "/" + object_id;
}

void Agent::record(AdvertisementRecord& r, const std::string& state, const std::string& detail,
                   std::optional<int> exit_code, const std::string& log_tail) {
    const bool changed = r.state != state || r.detail != detail;
    if (state != "waiting" && state != "postponed" && state != "available") r.next_at = 0;
    r.state = state;
    r.detail = detail;
    sql::Transaction tx(state_.db());
    state_.save_advertisement(r);
    if (changed) {
        StatusMessage message;
        message.advertisement = r.id;
        message.state = state;
        message.exit_code = exit_code;
        // The script's last lines, then the agent's one-line summary as the last line.
        message.log_tail = log_tail;
        if (!message.log_tail.empty() && message.log_tail.back() != '\n') message.log_tail += '\n';
        message.log_tail += detail;
        message.log_tail = printable_tail(message.log_tail, 8192);
        message.at = now();
        state_.queue_status(message);
    }
    tx.commit();
}

void Agent::recover_interrupted(std::vector<std::string>& log) {
    const auto recovered = installer_.recover();
    if (!recovered) return;
    const auto& entry = recovered->entry;
    log.push_back("recovered: " + recovered->outcome.detail);
    changed_software_ = true;
    if (entry.advertisement.empty()) return;
    AdvertisementRecord r =
        state_.advertisement(entry.advertisement).value_or(AdvertisementRecord{});
    r.id = entry.advertisement;
    r.attempts += 1;
    r.user_requested = false;  // a retry waits for its schedule again, windows included
    r.done_object.clear();     // an interrupted operation is tried again (up to the attempt limit)
    record(r, recovered->outcome.state, recovered->outcome.detail, std::nullopt,
           recovered->outcome.log_tail);
}

std::vector<std::string> Agent::cycle() {
    std::vector<std::string> log;
    recover_interrupted(log);
    try {
        poll_policy(log);
    } catch (const Error& e) {
        log.push_back(std::string("policy poll failed: ") + e.what());
    }
    if (const auto policy = active_policy(&log)) act_on(*policy, log);
    send_outbox(log);
    send_inventory(log, false);
    evict_cache();
    return log;
}

void Agent::poll_policy(std::vector<std::string>& log) {
    const auto enrolment = state_.enrolment();
    if (!enrolment)
        throw Error(ErrorCode::NotFound,
                    "this agent is not enrolled: run ferry-agent enroll --server URL --secret S");
    const auto stored = state_.policy();
    const PolicyAnswer answer =
        link().fetch_policy(enrolment->client_id, stored ? stored->etag : std::string());
    if (answer.kind == PolicyAnswer::Kind::Unchanged) return;
    if (answer.kind == PolicyAnswer::Kind::NotReady) {
        log.push_back("the site is still building this client's policy");
        return;
    }
    SignedPolicy served;
    try {
        const auto envelope = json::parse_object(answer.body, "policy envelope", kMaxPolicyBytes);
        json::FieldReader in(envelope, "policy envelope");
        served.json = in.multiline_string("policy", true, kMaxPolicyBytes);
        served.signature = in.multiline_string("signature", true, 8192);
        const auto key = minisign::PublicKey::parse(
            "untrusted comment: site\n" + enrolment->site_public_key + "\n", "the pinned site key");
        AcceptedPolicy last;
        if (stored) last = {stored->version, stored->digest};
        const Policy policy = verify_policy(served, key, enrolment->client_id, last, now());
        if (stored && policy.version == stored->version) {
            // The same document again (a DP replaying it, or a new ETag): nothing to do.
            auto same = *stored;
            same.etag = answer.etag;
            state_.save_policy(same);
            return;
        }
        {
            sql::Transaction tx(state_.db());
            state_.save_policy({policy.version, hash_bytes(served.json.data(), served.json.size()),
                                served.json, served.signature, answer.etag, now()});
            // A new policy may name other publisher keys: what was refused is looked at again.
            state_.db()
                .cached("UPDATE advertisement SET done_object = '' WHERE state = 'refused'")
                ->run();
            tx.commit();
        }
        state_.set_policy_refusal("", 0);
        log.push_back("accepted policy version " + std::to_string(policy.version));
    } catch (const Error& e) {
        // Keep the last good policy; say why at the site (inventory) and in the log. The same
        // refusal again keeps its first time, so a repeating DP does not churn the inventory.
        if (state_.policy_refusal().first != e.what()) state_.set_policy_refusal(e.what(), now());
        link().distrust_last_source();  // a DP replaying old policy is asked last from now on
        log.push_back(std::string("refused a policy: ") + e.what());
        changed_software_ = true;  // the refusal is reported with the next inventory
    }
}

std::optional<Policy> Agent::active_policy(std::vector<std::string>* log) {
    const auto stored = state_.policy();
    if (!stored) return std::nullopt;
    Policy policy = Policy::parse(stored->json, "the accepted policy");
    if (policy.expires_at <= now()) {
        // Indefinite freeze (THREATS.md 10): an expired policy starts nothing new, and the
        // site hears of it with the next inventory.
        if (log && state_.policy_refusal().first.empty()) {
            state_.set_policy_refusal(
                "the accepted policy version " + std::to_string(policy.version) + " expired at " +
                    utc(policy.expires_at) + "; nothing new starts until a fresh one arrives",
                now());
            changed_software_ = true;
        }
        if (log)
            log->push_back("the accepted policy expired at " + utc(policy.expires_at) +
                           "; nothing new is started until a fresh one arrives");
        return std::nullopt;
    }
    return policy;
}

void Agent::act_on(const Policy& policy, std::vector<std::string>& log) {
    for (const auto& ad : policy.advertisements) {
        try {
            handle(policy, ad, log);
        } catch (const Error& e) {
            log.push_back(ad.id + ": " + e.what());
        }
    }
}

bool Agent::prestage(const PolicyAdvertisement& ad, AdvertisementRecord& r,
                     std::vector<std::string>& log) {
    const std::string path = object_path(ad.object_id);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        state_.touch_cached({ad.object_id, ad.package, ad.version, ad.size, now()});
        return true;
    }
    if (r.state.empty() || r.state == "available" || r.state == "waiting" || r.state == "postponed")
        record(r, "downloading", "downloading " + ad.package + " " + ad.version);
    try {
        fs::create_directories(paths_.cache_dir());
        link().download(ad.object_id, ad.size, paths_.cache_dir());
    } catch (const Error& e) {
        // A bad object was deleted by the download; the next cycle tries again.
        record(r, "failed", std::string("download failed: ") + e.what());
        log.push_back(ad.id + ": download failed: " + e.what());
        return false;
    }
    state_.touch_cached({ad.object_id, ad.package, ad.version, ad.size, now()});
    record(r, "downloaded", ad.package + " " + ad.version + " is in the local cache");
    return true;
}

void Agent::handle(const Policy& policy, const PolicyAdvertisement& ad,
                   std::vector<std::string>& log) {
    AdvertisementRecord r = state_.advertisement(ad.id).value_or(AdvertisementRecord{});
    r.id = ad.id;
    if (r.done_object == ad.object_id && is_final_state(r.state)) return;
    // A script that failed (not a kill) fails again: reported once, retried only on request.
    if (r.done_object == ad.object_id && r.state == "failed") return;
    // An install that kills the agent every time (a script that reboots, say) is not retried
    // forever; `ferry-agent install` starts it again.
    if (r.state == "failed" && r.attempts >= options_.max_interrupted_attempts) return;
    const auto current = state_.version(ad.package, "current");
    if (ad.action == "install" && current && current->version == ad.version) {
        r.done_object = ad.object_id;
        record(r, "installed", ad.package + " " + ad.version + " is installed");
        return;
    }
    if (ad.action == "uninstall" && !current) {
        r.done_object = ad.object_id;
        record(r, "uninstalled", ad.package + " is not installed");
        return;
    }
    // Content is staged ahead only for what may run: not for a halted rollout, nor for
    // what becomes available more than a day from now.
    const bool may_run = ad.rollout_state == "active" && ad.available_at <= now() + 86400;
    if (ad.action == "install" && may_run && !prestage(ad, r, log)) return;

    const Decision decision = decide(ad, memory_of(r), now());
    if (decision.next != Next::Act) {
        r.next_at = decision.next == Next::Wait ? decision.at : 0;
        if (decision.state.empty())
            state_.save_advertisement(r);
        else
            record(r, decision.state, decision.why);
        return;
    }

    r.user_requested = false;
    r.next_at = 0;
    Outcome outcome;
    if (ad.action == "uninstall") {
        record(r, "uninstalling", "uninstalling " + ad.package);
        outcome = installer_.uninstall(ad.package, ad.id);
    } else {
        outcome = install_with_dependencies(policy, ad, log);
    }
    r = state_.advertisement(ad.id).value_or(r);
    r.id = ad.id;
    r.done_object = ad.object_id;
    r.user_requested = false;
    record(r, outcome.state, outcome.detail, outcome.exit_code, outcome.log_tail);
    log.push_back(ad.id + ": " + outcome.state + ": " + outcome.detail);
    changed_software_ = true;
}

std::optional<Outcome> Agent::plan_install(const Policy& policy, const PolicyAdvertisement& ad,
                                           std::vector<std::string>& stack,
                                           std::vector<PlannedInstall>& plan,
                                           std::vector<std::string>& log) {
    if (std::find(stack.begin(), stack.end(), ad.package) != stack.end()) {
        std::string cycle;
        for (const auto& name : stack) cycle += name + " → ";
        return Outcome{"refused", std::nullopt, "", "dependency cycle: " + cycle + ad.package};
    }
    for (const auto& planned : plan)
        if (planned.ad->id == ad.id) return std::nullopt;
    stack.push_back(ad.package);
    Manifest manifest;
    const std::string path = object_path(ad.object_id);
    try {
        manifest = check_package(policy, ad, path);
    } catch (const Error& e) {
        // Bad bytes or a bad signature (THREATS.md 1–5, 12–14): never kept, never unpacked.
        std::error_code ec;
        fs::remove(path, ec);
        state_.forget_cached(ad.object_id);
        return Outcome{"refused", std::nullopt, "",
                       std::string("refused ") + ad.package + " " + ad.version + ": " + e.what()};
    }
    for (const auto& dependency : manifest.dependencies) {
        const auto installed = state_.version(dependency.name, "current");
        if (installed && version_at_least(installed->version, dependency.min_version)) continue;
        const PolicyAdvertisement* provider = nullptr;
        for (const auto& other : policy.advertisements)
            if (other.action == "install" && other.package == dependency.name &&
                version_at_least(other.version, dependency.min_version) &&
                other.rollout_state == "active")
                provider = &other;
        const std::string wanted =
            dependency.name +
            (dependency.min_version.empty() ? "" : " ≥ " + dependency.min_version);
        if (!provider)
            return Outcome{"refused", std::nullopt, "",
                           ad.package + " " + ad.version + " needs " + wanted +
                               ", which is neither installed nor in this client's policy"};
        AdvertisementRecord staged =
            state_.advertisement(provider->id).value_or(AdvertisementRecord{});
        staged.id = provider->id;
        if (!prestage(*provider, staged, log))
            return Outcome{"failed", std::nullopt, "",
                           "dependency " + wanted + " could not be downloaded"};
        if (auto refusal = plan_install(policy, *provider, stack, plan, log)) return refusal;
    }
    stack.pop_back();
    plan.push_back({&ad, manifest});
    return std::nullopt;
}

Outcome Agent::install_with_dependencies(const Policy& policy, const PolicyAdvertisement& ad,
                                         std::vector<std::string>& log) {
    // The whole plan first: a cycle, a missing dependency or a bad object refuses the
    // advertisement that asked before anything is installed.
    std::vector<std::string> stack;
    std::vector<PlannedInstall> plan;
    if (auto refusal = plan_install(policy, ad, stack, plan, log)) return *refusal;
    for (const auto& step : plan) {
        const PolicyAdvertisement& next = *step.ad;
        AdvertisementRecord r = state_.advertisement(next.id).value_or(AdvertisementRecord{});
        r.id = next.id;
        const bool dependency = next.id != ad.id;
        if (r.state != "installing")
            record(r, "installing",
                   "installing " + next.package + " " + next.version +
                       (dependency ? " (a dependency of " + ad.package + ")" : ""));
        const Outcome done =
            installer_.install({next.id, next.package, next.version, next.object_id, next.signature,
                                object_path(next.object_id), step.manifest});
        if (!dependency) return done;
        r = state_.advertisement(next.id).value_or(r);
        r.done_object = next.object_id;
        r.next_at = 0;
        record(r, done.state, done.detail, done.exit_code, done.log_tail);
        if (done.state != "installed")
            return {"failed", std::nullopt, "",
                    "dependency " + next.package + " " + next.version + " " + done.state + ": " +
                        done.detail};
    }
    return {"failed", std::nullopt, "", "nothing was planned"};  // unreachable: ad is last
}

void Agent::send_outbox(std::vector<std::string>& log) {
    for (int batch = 0; batch < 100; ++batch) {
        auto messages = state_.unsent_status(1000);
        // At most ~4 MiB a batch (the site takes 12 MiB): log tails may be 8 KiB each.
        std::size_t bytes = 0, keep = 0;
        while (keep < messages.size() && bytes < (4u << 20))
            bytes += messages[keep++].log_tail.size() * 2 + 200;
        messages.resize(keep);
        if (messages.empty()) {
            state_.prune_outbox(1000);
            return;
        }
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& m : messages) {
            Poco::JSON::Object::Ptr item = new Poco::JSON::Object;
            item->set("seq", m.seq);
            item->set("advertisement", m.advertisement);
            item->set("state", m.state);
            if (m.exit_code) item->set("exit_code", *m.exit_code);
            if (!m.log_tail.empty()) item->set("log_tail", printable_tail(m.log_tail, 8192));
            item->set("at", m.at);
            items->add(item);
        }
        Poco::JSON::Object body;
        body.set("messages", items);
        std::ostringstream text;
        Poco::JSON::Stringifier::stringify(body, text);
        try {
            link().post("/api/v1/status", text.str());
            state_.mark_sent(messages.back().seq);
        } catch (const Error& e) {
            // The site refuses a whole batch for one advertisement that no longer targets this
            // client; those messages can never land, the others must.
            // A message the site cannot take (it names it: messages[N]) must not hold up the
            // rest: it is set aside, and the log says so.
            if (e.code() == ErrorCode::InvalidInput || e.code() == ErrorCode::LimitExceeded) {
                const std::string text = e.what();
                const auto at = text.find("messages[");
                std::size_t index = messages.size();
                if (at != std::string::npos)
                    index = std::strtoul(text.c_str() + at + 9, nullptr, 10);
                const std::int64_t seq =
                    index < messages.size() ? messages[index].seq : messages.front().seq;
                state_.db().cached("UPDATE outbox SET sent = 2 WHERE seq = ?1")->bind(1, seq).run();
                log.push_back("status message " + std::to_string(seq) +
                              " set aside, the site refused it: " + text);
                continue;
            }
            const std::string named = advertisement_named(e.what());
            if ((e.code() == ErrorCode::Forbidden || e.code() == ErrorCode::NotFound) &&
                !named.empty()) {
                state_.db()
                    .cached("UPDATE outbox SET sent = 2 WHERE sent = 0 AND advertisement = ?1")
                    ->bind(1, named)
                    .run();
                log.push_back("status for " + named + " dropped: " + e.what());
                continue;
            }
            log.push_back(std::string("status not sent (kept for the next cycle): ") + e.what());
            return;
        }
    }
}

Inventory Agent::current_inventory() {
    InventorySources sources;
    sources.system_root = options_.system_root;
    std::map<std::string, std::string> ferry_packages;
    for (const auto& v : state_.all_versions())
        if (v.role == "current") ferry_packages[v.name] = v.version;
    Inventory inventory = collect_inventory(sources, ferry_packages);
    if (const auto policy = state_.policy())
        inventory.facts["agent.policy_version"] = static_cast<std::int64_t>(policy->version);
    const auto [refusal, refused_at] = state_.policy_refusal();
    if (!refusal.empty()) {
        inventory.facts["agent.policy_refusal"] = refusal.substr(0, 1000);
        inventory.facts["agent.policy_refused_at"] = refused_at;
    }
    return inventory;
}

void Agent::send_inventory(std::vector<std::string>& log, bool force) {
    const auto [base, snapshot] = state_.reported_inventory();
    const bool due = base == 0 || changed_software_ || force ||
                     now() - last_inventory_check_ >= options_.inventory_interval_s;
    if (!due) return;
    const Inventory now_inventory = current_inventory();
    try {
        const std::int64_t seq = state_.next_inventory_seq();
        std::string body;
        if (base == 0) {
            body = full_report_json(now_inventory, seq);
        } else {
            const InventoryChange change =
                diff_inventory(inventory_from_json(snapshot), now_inventory);
            if (change.empty()) {
                changed_software_ = false;
                last_inventory_check_ = now();
                return;
            }
            body = change_report_json(change, seq, base);
        }
        try {
            link().post("/api/v1/clients/" + state_.enrolment()->client_id + "/inventory", body);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::Conflict) throw;
            // The site lost track of our base: send everything.
            const std::int64_t full_seq = state_.next_inventory_seq();
            link().post("/api/v1/clients/" + state_.enrolment()->client_id + "/inventory",
                        full_report_json(now_inventory, full_seq));
            state_.save_reported_inventory(full_seq, inventory_to_json(now_inventory));
            changed_software_ = false;
            last_inventory_check_ = now();
            log.push_back("sent a full inventory (the site asked for one)");
            return;
        }
        state_.save_reported_inventory(seq, inventory_to_json(now_inventory));
        changed_software_ = false;
        last_inventory_check_ = now();
        log.push_back(base == 0 ? "sent the full inventory" : "sent the inventory changes");
    } catch (const Error& e) {
        log.push_back(std::string("inventory not sent (tried again next cycle): ") + e.what());
    }
}

void Agent::evict_cache() {
    // Never evicted: what is installed (rollback needs the previous object) and what an
    // advertisement of the accepted policy still needs.
    std::set<std::string> pinned;
    for (const auto& v : state_.all_versions()) pinned.insert(v.object_id);
    if (const auto policy = active_policy(nullptr))
        for (const auto& ad : policy->advertisements) pinned.insert(ad.object_id);
    std::uint64_t total = 0;
    const auto cached = state_.cached_objects();  // least recently used first
    for (const auto& o : cached) total += o.size;
    for (const auto& o : cached) {
        if (total <= options_.cache_limit_bytes) break;
        if (pinned.count(o.object_id)) continue;
        std::error_code ec;
        fs::remove(object_path(o.object_id), ec);
        state_.forget_cached(o.object_id);
        total -= o.size;
    }
}

std::int64_t Agent::next_wakeup(std::int64_t poll_interval_s) {
    // Only a future moment of an advertisement still in the policy: a stale one would wake
    // the daemon every second.
    std::int64_t next = now() + poll_interval_s;
    const auto policy = active_policy(nullptr);
    if (!policy) return next;
    for (const auto& r : state_.advertisements())
        if (r.next_at > now() && r.next_at < next && find_advertisement(*policy, r.id) &&
            !is_final_state(r.state))
            next = r.next_at;
    return next;
}

}  // namespace ferry::agent
