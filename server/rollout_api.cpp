#include "rollout_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "advertisement_api.h"
#include "ferry/error.h"
#include "ferry/json.h"

namespace ferry::server {
namespace {

std::int64_t rollout_id(const std::string& text) {
    const auto id = parse_rollout_number(text);
    if (!id)
        throw Error(ErrorCode::InvalidInput,
                    "\"" + text.substr(0, 40) + "\" is not a rollout (RO-NNNN)");
    return *id;
}

std::string wave_state(const Rollout& rollout, const Wave& wave) {
    if (wave.completed_at) return "complete";
    if (wave.started_at) return rollout.state == "halted" ? "halted" : "started";
    return "pending";
}

std::string reason_of(const std::string& body) {
    if (body.empty()) return "";
    json::FieldReader in(json::parse_object(body, "request body", 10), "request body");
    in.allow_only({"reason"});
    return in.string("reason", false, 2000);
}

}  // namespace

void read_rollout_plan(json::FieldReader& in, RolloutPlan& plan) {
    const auto waves = in.strings("waves", false, 20, 64);
    for (std::size_t i = 0; i < waves.size(); ++i)
        plan.waves.push_back(parse_wave(waves[i], "field \"waves\"[" + std::to_string(i) + "]"));
    if (in.has("success_threshold"))
        plan.success_threshold = static_cast<int>(in.integer("success_threshold", true, 1, 100));
    if (in.has("error_threshold"))
        plan.error_threshold = static_cast<int>(in.integer("error_threshold", true, 0, 100));
    plan.sign_off = in.boolean("sign_off", false);
}

bool has_rollout_plan(const json::FieldReader& in) {
    return in.has("waves") || in.has("success_threshold") || in.has("error_threshold") ||
           in.has("sign_off");
}

Poco::JSON::Object rollout_json(const Rollout& r) {
    Poco::JSON::Object o;
    o.set("id", rollout_number(r.id));
    o.set("advertisement", advertisement_number(r.advertisement_id));
    o.set("package", r.package + "@" + r.version);
    o.set("action", r.action);
    o.set("release", r.release);
    o.set("collection", r.collection);
    o.set("state", r.state);
    if (!r.reason.empty()) o.set("reason", r.reason);
    o.set("success_threshold", r.success_threshold);
    o.set("error_threshold", r.error_threshold);
    o.set("sign_off", r.sign_off);
    if (r.backout) o.set("backout", true);
    o.set("current_wave", r.current_wave + 1);  // 1-based; 0 before the first starts
    o.set("created_by", r.created_by);
    o.set("created_at", r.created_at);
    if (r.completed_at) o.set("completed_at", *r.completed_at);
    Poco::JSON::Array waves;
    WaveProgress total;
    for (const auto& wave : r.waves) {
        Poco::JSON::Object w;
        w.set("number", wave.number + 1);
        if (wave.plan.collection.empty())
            w.set("percent", wave.plan.percent);
        else
            w.set("collection", wave.plan.collection);
        w.set("pilot", wave.plan.pilot);
        w.set("state", wave_state(r, wave));
        if (wave.started_at) w.set("started_at", *wave.started_at);
        if (wave.completed_at) w.set("completed_at", *wave.completed_at);
        const WaveProgress& p = wave.progress;
        w.set("members", p.members);
        w.set("succeeded", p.succeeded);
        w.set("failed", p.failed);
        w.set("in_progress", p.in_progress);
        w.set("not_reported", p.members - p.succeeded - p.failed - p.in_progress);
        if (wave.failed_accepted > 0) w.set("failed_accepted", wave.failed_accepted);
        waves.add(w);
        total.members += p.members;
        total.succeeded += p.succeeded;
        total.failed += p.failed;
        total.in_progress += p.in_progress;
    }
    o.set("waves", waves);
    Poco::JSON::Object totals;
    totals.set("members", total.members);
    totals.set("succeeded", total.succeeded);
    totals.set("failed", total.failed);
    totals.set("in_progress", total.in_progress);
    totals.set("not_reported", total.members - total.succeeded - total.failed - total.in_progress);
    o.set("totals", totals);
    return o;
}

Poco::JSON::Object progress_json(const WaveProgress& p) {
    Poco::JSON::Object o;
    o.set("members", p.members);
    o.set("succeeded", p.succeeded);
    o.set("failed", p.failed);
    o.set("in_progress", p.in_progress);
    return o;
}

Poco::JSON::Object report_json(const RolloutReport& report) {
    Poco::JSON::Object o;
    o.set("rollout", rollout_json(report.rollout));
    Poco::JSON::Array states;
    for (std::size_t i = 0; i < report.states.size(); ++i) {
        Poco::JSON::Object wave;
        wave.set("number", static_cast<int>(i) + 1);
        Poco::JSON::Object counts;
        for (const auto& [state, count] : report.states[i]) counts.set(state, count);
        wave.set("states", counts);
        states.add(wave);
    }
    o.set("waves", states);
    Poco::JSON::Array failures;
    for (const auto& f : report.failures) {
        Poco::JSON::Object g;
        g.set("state", f.state);
        if (f.exit_code) g.set("exit_code", *f.exit_code);
        g.set("clients", f.clients);
        g.set("log_tail", f.log_tail);
        Poco::JSON::Array names;
        for (const auto& name : f.hostnames) names.add(name);
        g.set("hostnames", names);
        failures.add(g);
    }
    o.set("failures", failures);
    Poco::JSON::Array history;
    for (const auto& point : report.history) {
        Poco::JSON::Object h;
        h.set("at", point.at);
        Poco::JSON::Array waves;
        for (const auto& p : point.waves) waves.add(progress_json(p));
        h.set("waves", waves);
        history.add(h);
    }
    o.set("history", history);
    Poco::JSON::Array dps;
    for (const auto& dp : report.dps) {
        Poco::JSON::Object d;
        d.set("name", dp.name);
        d.set("url", dp.url);
        if (dp.last_seen_at) d.set("last_seen_at", *dp.last_seen_at);
        if (dp.lag) d.set("lag", *dp.lag);
        d.set("synced_since_created", dp.synced_since_created);
        d.set("clients", progress_json(dp.clients));
        dps.add(d);
    }
    o.set("dps", dps);
    return o;
}

ApiAnswer rollouts_api(RolloutService& rollouts, AdvertisementService& ads, const Principal& caller,
                       const std::string& method, const std::vector<std::string>& parts,
                       const std::string& body) {
    if (parts.empty() && method == "GET") {
        Poco::JSON::Array list;
        for (const auto& r : rollouts.list(caller)) list.add(rollout_json(r));
        Poco::JSON::Object out;
        out.set("rollouts", list);
        return json_answer(200, out);
    }
    if (parts.empty() && method == "POST") {
        json::FieldReader in(json::parse_object(body, "request body", 200), "request body");
        auto fields = advertisement_fields();
        fields.insert(fields.end(), {"waves", "success_threshold", "error_threshold", "sign_off"});
        in.allow_only(fields);
        NewAdvertisement request = read_new_advertisement(in);
        RolloutPlan plan;
        read_rollout_plan(in, plan);
        return json_answer(201, rollout_json(rollouts.create(caller, ads, request, plan)));
    }
    if (parts.size() == 1 && method == "GET")
        return json_answer(200, rollout_json(rollouts.show(caller, rollout_id(parts[0]))));
    if (parts.size() == 2 && method == "GET" && parts[1] == "report")
        return json_answer(200, report_json(rollouts.report(caller, rollout_id(parts[0]))));
    if (parts.size() == 2 && method == "POST") {
        const std::int64_t id = rollout_id(parts[0]);
        const std::string& verb = parts[1];
        if (verb == "halt")
            return json_answer(200, rollout_json(rollouts.halt(caller, id, reason_of(body))));
        if (verb == "resume")
            return json_answer(200, rollout_json(rollouts.resume(caller, id, reason_of(body))));
        if (verb == "cancel")
            return json_answer(200, rollout_json(rollouts.cancel(caller, id, reason_of(body))));
        if (verb == "advance")
            return json_answer(200, rollout_json(rollouts.advance(caller, id, reason_of(body))));
    }
    throw Error(ErrorCode::NotFound, "no such route");
}

}  // namespace ferry::server
