#include "rollout.h"

#include <algorithm>
#include <cstdio>

#include "advertisement.h"
#include "ferry/error.h"
#include "ferry/hash.h"
#include "ferry/json.h"

namespace ferry::server {
namespace {

constexpr int kMaxWaves = 20;
constexpr int kMaxStepsPerTick = 8;  // complete a wave and start the next in one tick, bounded

// "20%", "33.33%", "5.01%": two decimals at most, so that a share just past a threshold does
// not read as equal to it.
std::string percent_of(std::int64_t part, std::int64_t whole) {
    char text[24];
    std::snprintf(
        text, sizeof text, "%.2f",
        whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole));
    std::string out = text;
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
    return out + "%";
}

std::string wave_name(int number) { return "wave " + std::to_string(number + 1); }

bool one_of(const std::string& value, std::initializer_list<const char*> options) {
    for (const char* option : options)
        if (value == option) return true;
    return false;
}

// Why `wave` may not start while the release is in `release_state`, or "".
std::string gate(const Rollout& rollout, int wave, const std::string& release_state) {
    if (rollout.backout) return "";  // undoing a release goes on whatever state it is in
    const bool pilot = rollout.waves[static_cast<std::size_t>(wave)].plan.pilot;
    if (pilot ? one_of(release_state, {"testing", "ready", "deploying", "deployed"})
              : one_of(release_state, {"ready", "deploying", "deployed"}))
        return "";
    return wave_name(wave) + (pilot ? " (pilot) waits: " : " (production) waits: ") +
           rollout.release + " is " + release_state +
           (pilot ? "; a pilot wave needs it testing, ready or deploying"
                  : "; a production wave needs it ready (readiness review passed) or deploying");
}

void check_reason(const std::string& reason) {
    if (reason.size() > 2000 || !json::is_printable(reason))
        throw Error(ErrorCode::InvalidInput, "field \"reason\": at most 2000 printable characters");
}

}  // namespace

std::string rollout_number(std::int64_t id) {
    char text[32];
    std::snprintf(text, sizeof text, "RO-%04lld", static_cast<long long>(id));
    return text;
}

std::optional<std::int64_t> parse_rollout_number(const std::string& text) {
    std::string digits = text.rfind("RO-", 0) == 0 ? text.substr(3) : text;
    if (digits.empty() || digits.size() > 12 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    const std::int64_t id = std::stoll(digits);
    if (id <= 0) return std::nullopt;
    return id;
}

int rollout_bucket(std::int64_t rollout_id, const std::string& client_uid) {
    const std::string key = std::to_string(rollout_id) + ":" + client_uid;
    const std::string digest = hash_bytes(key.data(), key.size());  // hex
    const unsigned long long value = std::stoull(digest.substr(0, 12), nullptr, 16);
    return static_cast<int>(value % 10000);
}

int wave_for(std::int64_t rollout_id, const std::string& client_uid,
             const std::vector<WavePlan>& waves,
             const std::function<bool(std::int64_t collection_id)>& member_of) {
    const int bucket = rollout_bucket(rollout_id, client_uid);
    for (std::size_t i = 0; i < waves.size(); ++i) {
        const WavePlan& wave = waves[i];
        if (wave.collection.empty() ? bucket < wave.percent * 100 : member_of(wave.collection_id))
            return static_cast<int>(i);
    }
    return static_cast<int>(waves.size()) - 1;
}

WavePlan parse_wave(const std::string& text, const std::string& field) {
    WavePlan wave;
    if (!text.empty() && text.back() == '%') {
        const std::string digits = text.substr(0, text.size() - 1);
        if (digits.empty() || digits.size() > 3 ||
            !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
            throw Error(ErrorCode::InvalidInput, field + ": \"" + text.substr(0, 16) +
                                                     "\" is not a percentage (1% to 100%)");
        wave.percent = std::stoi(digits);
        if (wave.percent < 1 || wave.percent > 100)
            throw Error(ErrorCode::InvalidInput, field + ": a percentage is 1% to 100%");
        return wave;
    }
    if (text.empty() || text.size() > 64 || !json::is_printable(text))
        throw Error(ErrorCode::InvalidInput,
                    field + ": a collection name or a percentage such as 25%");
    wave.collection = text;
    return wave;
}

RolloutStep next_step(const Rollout& rollout, const std::string& release_state) {
    if (rollout.state != "active") return {RolloutStep::Nothing, -1, rollout.reason};
    // A started wave whose new failures pass the error threshold halts everything.
    for (int i = 0; i <= rollout.current_wave; ++i) {
        const Wave& wave = rollout.waves[static_cast<std::size_t>(i)];
        const std::int64_t failed = wave.progress.failed - wave.failed_accepted;
        if (wave.progress.members > 0 &&
            failed * 100 > rollout.error_threshold * wave.progress.members)
            return {RolloutStep::Halt, i,
                    wave_name(i) + ": " + std::to_string(failed) + " of " +
                        std::to_string(wave.progress.members) + " clients failed (" +
                        percent_of(failed, wave.progress.members) +
                        "), above the error threshold of " +
                        std::to_string(rollout.error_threshold) + "%"};
    }
    if (rollout.current_wave < 0) {
        const std::string waits = gate(rollout, 0, release_state);
        if (!waits.empty()) return {RolloutStep::Nothing, 0, waits};
        return {RolloutStep::StartWave, 0, "the rollout begins"};
    }
    const int current = rollout.current_wave;
    const Wave& wave = rollout.waves[static_cast<std::size_t>(current)];
    const WaveProgress& p = wave.progress;
    if (!wave.completed_at) {
        if (p.members == 0 || p.succeeded * 100 >= rollout.success_threshold * p.members)
            return {RolloutStep::CompleteWave, current,
                    wave_name(current) + ": " + std::to_string(p.succeeded) + " of " +
                        std::to_string(p.members) + " succeeded (" +
                        percent_of(p.succeeded, p.members) + "), threshold " +
                        std::to_string(rollout.success_threshold) + "%"};
        return {RolloutStep::Nothing, current,
                wave_name(current) + ": " + std::to_string(p.succeeded) + " of " +
                    std::to_string(p.members) + " succeeded; " +
                    std::to_string(rollout.success_threshold) + "% needed"};
    }
    const int last = static_cast<int>(rollout.waves.size()) - 1;
    if (current == last) return {RolloutStep::Complete, current, "every wave is complete"};
    if (rollout.sign_off)
        return {RolloutStep::Nothing, current + 1,
                wave_name(current) + " is complete; " + wave_name(current + 1) +
                    " waits for a sign-off (ferryctl rollout advance " +
                    rollout_number(rollout.id) + ")"};
    const std::string waits = gate(rollout, current + 1, release_state);
    if (!waits.empty()) return {RolloutStep::Nothing, current + 1, waits};
    return {RolloutStep::StartWave, current + 1, wave_name(current) + " is complete"};
}

RolloutPlan RolloutService::resolve(RolloutPlan plan, bool target_pilot) const {
    if (plan.success_threshold < 1 || plan.success_threshold > 100)
        throw Error(ErrorCode::InvalidInput, "field \"success_threshold\": 1 to 100 (percent)");
    if (plan.error_threshold < 0 || plan.error_threshold > 100)
        throw Error(ErrorCode::InvalidInput, "field \"error_threshold\": 0 to 100 (percent)");
    if (plan.waves.empty() || plan.waves.back().collection.size() > 0 ||
        plan.waves.back().percent < 100)
        plan.waves.push_back(WavePlan{"", 100});  // everyone else, last
    if (static_cast<int>(plan.waves.size()) > kMaxWaves)
        throw Error(ErrorCode::InvalidInput,
                    "field \"waves\": at most " + std::to_string(kMaxWaves) + " waves");
    int last_percent = 0;
    for (std::size_t i = 0; i < plan.waves.size(); ++i) {
        WavePlan& wave = plan.waves[i];
        const std::string field = "field \"waves\"[" + std::to_string(i) + "]";
        if (wave.collection.empty()) {
            if (wave.percent <= last_percent)
                throw Error(ErrorCode::InvalidInput,
                            field + ": percentages are cumulative and must grow (" +
                                std::to_string(wave.percent) + "% after " +
                                std::to_string(last_percent) + "%)");
            last_percent = wave.percent;
            wave.pilot = target_pilot;
            continue;
        }
        const auto found = store_.collection(wave.collection);
        if (!found) throw Error(ErrorCode::NotFound, field + ": no collection " + wave.collection);
        wave.collection_id = found->first;
        wave.pilot = found->second;
        for (std::size_t j = 0; j < i; ++j)
            if (plan.waves[j].collection_id == wave.collection_id && !wave.collection.empty())
                throw Error(ErrorCode::InvalidInput,
                            field + ": collection " + wave.collection + " is already a wave");
    }
    return plan;
}

Rollout RolloutService::create(const Principal& who, AdvertisementService& ads,
                               NewAdvertisement request, RolloutPlan plan) {
    UserService::require(who, Permission::Advertise, "create rollouts");
    const auto target = store_.collection(request.collection);
    if (!target)
        throw Error(ErrorCode::NotFound, "no collection " + request.collection.substr(0, 64));
    request.rollout = resolve(std::move(plan), target->second);
    const Advertisement ad = ads.create(who, request);
    auto rollout = store_.find_by_advertisement(ad.id);
    if (rollout) {
        // Placed and, gates permitting, its first wave started before the answer: what the
        // caller sees is where it stands, not an empty plan.
        tick_one(rollout->id);
        rollout = store_.find(rollout->id);
    }
    if (!rollout)
        throw Error(ErrorCode::Internal,
                    "the rollout of " + advertisement_number(ad.id) + " was not stored");
    return *rollout;
}

Rollout RolloutService::find(std::int64_t id) {
    auto rollout = store_.find(id);
    if (!rollout) throw Error(ErrorCode::NotFound, "no " + rollout_number(id));
    return *rollout;
}

Rollout RolloutService::show(const Principal& reader, std::int64_t id) {
    UserService::require(reader, Permission::ReadSite, "read rollouts");
    Rollout rollout = find(id);
    if (rollout.state == "active")
        rollout.reason = next_step(rollout, store_.release_state(rollout.release)).why;
    return rollout;
}

RolloutReport RolloutService::report(const Principal& reader, std::int64_t id) {
    return store_.report(show(reader, id));
}

std::vector<Rollout> RolloutService::list(const Principal& reader) {
    UserService::require(reader, Permission::ReadSite, "read rollouts");
    return store_.list();
}

Rollout RolloutService::change(const Principal& who, std::int64_t id, const std::string& to,
                               const std::string& reason, const std::string& verb) {
    UserService::require(who, Permission::Advertise, verb + " rollouts");
    check_reason(reason);
    Rollout rollout = find(id);
    const std::string number = rollout_number(id);
    const bool allowed = to == "halted"   ? rollout.state == "active"
                         : to == "active" ? rollout.state == "halted"
                                          : one_of(rollout.state, {"active", "halted"});
    if (!allowed)
        throw Error(ErrorCode::Conflict,
                    number + " is " + rollout.state + "; only " +
                        (to == "halted"   ? "an active rollout can be halted"
                         : to == "active" ? "a halted rollout can be resumed"
                                          : "an active or halted rollout can be cancelled"));
    if (to == "active" && !rollout.backout) {
        const std::string release_state = store_.release_state(rollout.release);
        if (!one_of(release_state, {"testing", "ready", "deploying", "deployed"}))
            throw Error(ErrorCode::Conflict,
                        number + " cannot resume: " + rollout.release + " is " + release_state);
    }
    const std::int64_t now = clock_();
    const std::string note = reason.empty() ? verb + " by " + who.name : reason;
    std::vector<ChangeLogEntry> entries = {{now, who.name, "rollout.state", number, rollout.state,
                                            to + (reason.empty() ? "" : ": " + reason)}};
    // Cancelling the last unfinished rollout of a deploying release whose other rollouts
    // completed ends its deployment, as that last rollout completing would have.
    const bool to_deployed = to == "cancelled" && !rollout.backout &&
                             store_.release_state(rollout.release) == "deploying" &&
                             !store_.release_has_unfinished(rollout.release, id) &&
                             store_.release_has_completed(rollout.release, id);
    if (to_deployed)
        entries.push_back(
            {now, who.name, "release.transition", rollout.release, "deploying",
             "deployed: " + number + " cancelled, the release's other rollouts are complete"});
    if (!store_.set_state(rollout, rollout.state, to, note, now, to_deployed, entries))
        throw Error(ErrorCode::Conflict, number + " changed meanwhile; read it again");
    return find(id);
}

Rollout RolloutService::halt(const Principal& who, std::int64_t id, const std::string& reason) {
    return change(who, id, "halted", reason, "halt");
}

Rollout RolloutService::resume(const Principal& who, std::int64_t id, const std::string& reason) {
    return change(who, id, "active", reason, "resume");
}

Rollout RolloutService::cancel(const Principal& who, std::int64_t id, const std::string& reason) {
    return change(who, id, "cancelled", reason, "cancel");
}

Rollout RolloutService::advance(const Principal& who, std::int64_t id, const std::string& reason) {
    UserService::require(who, Permission::Advertise, "advance rollouts");
    check_reason(reason);
    const Rollout rollout = find(id);
    const std::string number = rollout_number(id);
    if (rollout.state != "active")
        throw Error(ErrorCode::Conflict,
                    number + " is " + rollout.state + "; only an active rollout advances" +
                        (rollout.state == "halted" ? " (resume it first)" : ""));
    const int next = rollout.current_wave + 1;
    if (next >= static_cast<int>(rollout.waves.size()))
        throw Error(ErrorCode::Conflict, number + " is at its last wave; it completes when " +
                                             wave_name(rollout.current_wave) + " does");
    const std::string release_state = store_.release_state(rollout.release);
    const std::string waits = gate(rollout, next, release_state);
    if (!waits.empty()) throw Error(ErrorCode::Conflict, number + ": " + waits);
    const std::int64_t now = clock_();
    if (rollout.current_wave >= 0 &&
        !rollout.waves[static_cast<std::size_t>(rollout.current_wave)].completed_at)
        store_.complete_wave(
            rollout, rollout.current_wave, now,
            {now, who.name, "rollout.wave", number + " " + wave_name(rollout.current_wave),
             "started", "complete: signed off"});
    const std::string why = "signed off by " + who.name + (reason.empty() ? "" : ": " + reason);
    if (!start(find(id), next, who.name, why))
        throw Error(ErrorCode::Conflict, number + " changed meanwhile; read it again");
    return find(id);
}

bool RolloutService::start(const Rollout& rollout, int wave, const std::string& actor,
                           const std::string& why) {
    const std::int64_t now = clock_();
    const std::string release_state = store_.release_state(rollout.release);
    const bool production = !rollout.waves[static_cast<std::size_t>(wave)].plan.pilot;
    const bool to_deploying = production && release_state == "ready";
    std::vector<ChangeLogEntry> entries = {{now, actor, "rollout.wave",
                                            rollout_number(rollout.id) + " " + wave_name(wave),
                                            "pending", "started: " + why}};
    if (to_deploying)
        entries.push_back({now, actor, "release.transition", rollout.release, "ready",
                           "deploying: first production wave of " + rollout_number(rollout.id)});
    return store_.start_wave(rollout, wave, now, to_deploying, entries);
}

int RolloutService::step(std::int64_t id) {
    int taken = 0;
    for (int i = 0; i < kMaxStepsPerTick; ++i) {
        const auto rollout = store_.find(id);
        if (!rollout || rollout->state != "active") break;
        const std::string release_state = store_.release_state(rollout->release);
        const RolloutStep next = next_step(*rollout, release_state);
        const std::int64_t now = clock_();
        const std::string number = rollout_number(id);
        bool done = false;
        switch (next.kind) {
            case RolloutStep::Nothing:
                break;
            case RolloutStep::Halt:
                done = store_.set_state(
                    *rollout, "active", "halted", next.why, now, false,
                    {{now, "ferryd", "rollout.state", number, "active", "halted: " + next.why}});
                break;
            case RolloutStep::CompleteWave:
                store_.complete_wave(
                    *rollout, next.wave, now,
                    {now, "ferryd", "rollout.wave", number + " " + wave_name(next.wave), "started",
                     "complete: " + next.why});
                done = true;
                break;
            case RolloutStep::StartWave:
                done = start(*rollout, next.wave, "ferryd", next.why);
                break;
            case RolloutStep::Complete: {
                const bool to_deployed = release_state == "deploying" &&
                                         !store_.release_has_unfinished(rollout->release, id);
                std::vector<ChangeLogEntry> entries = {
                    {now, "ferryd", "rollout.state", number, "active", "completed: " + next.why}};
                if (to_deployed)
                    entries.push_back({now, "ferryd", "release.transition", rollout->release,
                                       "deploying",
                                       "deployed: the last wave of " + number + " is complete"});
                done = store_.set_state(*rollout, "active", "completed", next.why, now, to_deployed,
                                        entries);
                break;
            }
        }
        if (!done) break;
        ++taken;
    }
    return taken;
}

int RolloutService::tick() {
    int taken = 0;
    for (const std::int64_t id : store_.live()) taken += tick_one(id);
    return taken;
}

int RolloutService::tick_one(std::int64_t id) {
    const auto rollout = store_.find(id);
    if (!rollout) return 0;
    const auto unplaced = store_.unplaced(*rollout);
    if (!unplaced.empty()) {
        std::vector<WavePlan> plans;
        for (const auto& wave : rollout->waves) plans.push_back(wave.plan);
        std::vector<std::pair<std::int64_t, int>> placed;
        placed.reserve(unplaced.size());
        for (const auto& client : unplaced)
            placed.emplace_back(
                client.client_id,
                wave_for(rollout->bucket_seed, client.uid, plans, [&](std::int64_t collection) {
                    return std::find(client.collections.begin(), client.collections.end(),
                                     collection) != client.collections.end();
                }));
        store_.place(*rollout, placed, clock_());
    }
    const int taken = step(id);
    if (const auto now_state = store_.find(id)) store_.sample(*now_state, clock_());
    return taken;
}

}  // namespace ferry::server
