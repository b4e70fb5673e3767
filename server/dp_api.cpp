#include "dp_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <sstream>

#include "ferry/encoding.h"
#include "ferry/error.h"
#include "ferry/json.h"
#include "ferry/throttle.h"

namespace ferry::server {

namespace {

// `rate`: what its schedule allows now (bytes/s); shown as "schedule_now", and as a number
// ("schedule_rate") unless unlimited, beside the throughput the DP reports.
Poco::JSON::Object dp_json(const DistributionPoint& dp, double rate) {
    Poco::JSON::Object o;
    o.set("name", dp.name);
    o.set("state", dp.revoked_at ? "revoked" : "active");
    o.set("created_by", dp.created_by);
    o.set("created_at", dp.created_at);
    if (dp.last_seen_at) o.set("last_seen_at", *dp.last_seen_at);
    if (!dp.url.empty()) o.set("url", dp.url);
    if (!dp.collection.empty()) o.set("collection", dp.collection);
    o.set("schedule", dp.schedule);
    o.set("schedule_now", rate_text(rate));
    if (rate != kUnlimited) o.set("schedule_rate", static_cast<Poco::Int64>(rate));
    o.set("replica", dp.replica);
    if (!dp.report.empty()) {
        try {
            o.set("report", json::parse_object(dp.report, "stored report", 100));
        } catch (const Error&) {
        }
    }
    return o;
}

ApiAnswer dp_answer(const DpService& dps, const DistributionPoint& dp) {
    return json_answer(200, dp_json(dp, dps.scheduled_rate(dp)));
}

// The figures a DP reports about itself, and the objects it holds (when it holds few enough to
// list: kMaxHeldListed); anything else in its heartbeat is refused.
std::string figures_of(json::FieldReader& in) {
    Poco::JSON::Object figures;
    for (const char* key : {"objects", "bytes", "queue", "lag", "throughput"})
        if (in.has(key)) figures.set(key, in.integer(key, true, 0, INT64_MAX / 2));
    if (in.has("held")) {
        Poco::JSON::Array held;
        const auto ids = in.strings("held", true, kMaxHeldListed, 64);
        for (std::size_t i = 0; i < ids.size(); ++i) {
            if (!is_object_id(ids[i]))
                throw Error(ErrorCode::InvalidInput, in.where("held") + "[" + std::to_string(i) +
                                                         "]: an object id is 64 lowercase hex "
                                                         "digits");
            held.add(ids[i]);
        }
        figures.set("held", held);
    }
    std::ostringstream out;
    figures.stringify(out);
    return out.str();
}

}  // namespace

ApiAnswer dps_api(DpService& dps, const Principal& caller, const std::string& method,
                  const std::vector<std::string>& parts, const std::string& body) {
    if (parts.size() == 1 && parts[0] == "register" && method == "POST") {
        DpService::require_dp(caller, "reports itself");  // 403 before the body is read
        json::FieldReader in(json::parse_object(body, "request body", 100 + kMaxHeldListed),
                             "request body");
        in.allow_only({"url", "objects", "bytes", "queue", "lag", "throughput", "held"});
        const std::string url = in.string("url", true, 256);
        const DistributionPoint dp = dps.report(caller, url, figures_of(in));
        Poco::JSON::Object out;
        out.set("name", dp.name);
        out.set("url", dp.url);
        out.set("schedule", dp.schedule);
        out.set("replica", dp.replica);
        return json_answer(200, out);
    }
    if (parts.size() == 1 && method == "GET") return dp_answer(dps, dps.show(caller, parts[0]));
    if (parts.size() == 2 && method == "POST" &&
        (parts[1] == "assign" || parts[1] == "schedule" || parts[1] == "replica")) {
        json::FieldReader in(json::parse_object(body, "request body", 100), "request body");
        if (parts[1] == "assign") {
            in.allow_only({"collection"});
            dps.assign(caller, parts[0], in.string("collection", false, 64));
        } else if (parts[1] == "schedule") {
            in.allow_only({"schedule"});
            dps.set_schedule(caller, parts[0], in.string("schedule", false, 1024));
        } else {
            in.allow_only({"replica"});
            dps.set_replica(caller, parts[0], in.boolean("replica", true));
        }
        return dp_answer(dps, dps.show(caller, parts[0]));
    }
    if (parts.empty() && method == "GET") {
        Poco::JSON::Array list;
        for (const auto& dp : dps.list(caller)) list.add(dp_json(dp, dps.scheduled_rate(dp)));
        Poco::JSON::Object out;
        out.set("dps", list);
        return json_answer(200, out);
    }
    if (parts.empty() && method == "POST") {
        json::FieldReader in(json::parse_object(body, "request body", 10), "request body");
        in.allow_only({"name"});
        const std::string name = in.string("name", true, 64);
        Poco::JSON::Object out;
        out.set("name", name);
        out.set("token", dps.add(caller, name));
        return json_answer(201, out);
    }
    if (parts.size() == 2 && parts[1] == "revoke" && method == "POST") {
        dps.revoke(caller, parts[0]);
        Poco::JSON::Object out;
        out.set("name", parts[0]);
        out.set("state", "revoked");
        return json_answer(200, out);
    }
    throw Error(ErrorCode::NotFound, "no such route");
}

}  // namespace ferry::server
