#include "advertisement_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "ferry/error.h"
#include "ferry/json.h"
#include "release.h"

namespace ferry::server {

std::vector<std::string> advertisement_fields() {
    return {"package",   "collection",   "release",
            "action",    "available_at", "deadline",
            "mandatory", "postpone_max", "postpone_max_delay",
            "windows"};
}

NewAdvertisement read_new_advertisement(json::FieldReader& in) {
    NewAdvertisement request;
    const ReleasePackage package = parse_package_ref(in.string("package", true, 200), "package");
    request.package = package.name;
    request.version = package.version;
    request.collection = in.string("collection", true, 64);
    if (in.has("release")) request.release = in.string("release", true, 32);
    if (in.has("action")) request.action = in.string("action", true, 16);
    constexpr std::int64_t kYear3000 = 32'503'680'000;
    if (in.has("available_at"))
        request.available_at = in.integer("available_at", true, 0, kYear3000);
    if (in.has("deadline")) request.deadline = in.integer("deadline", true, 0, kYear3000);
    request.mandatory = in.boolean("mandatory", false);
    request.postpone_max = static_cast<int>(in.integer("postpone_max", false, 0, 100));
    request.postpone_max_delay_s = in.integer("postpone_max_delay", false, 0, 365 * 86400);
    request.windows = in.strings("windows", false, 20, 64);
    return request;
}

namespace {

Poco::JSON::Object advertisement_json(const Advertisement& ad) {
    Poco::JSON::Object o;
    o.set("id", advertisement_number(ad.id));
    o.set("package", ad.package + "@" + ad.version);
    o.set("release", ad.release);
    o.set("collection", ad.collection);
    o.set("action", ad.action);
    o.set("available_at", ad.available_at);
    if (ad.deadline) o.set("deadline", *ad.deadline);
    o.set("mandatory", ad.mandatory);
    o.set("postpone_max", ad.postpone_max);
    o.set("postpone_max_delay", ad.postpone_max_delay_s);
    Poco::JSON::Array windows;
    for (const auto& w : ad.windows) windows.add(w);
    o.set("windows", windows);
    o.set("state", ad.state);
    o.set("created_by", ad.created_by);
    o.set("created_at", ad.created_at);
    if (ad.rollout_id != 0) o.set("rollout", rollout_number(ad.rollout_id));
    return o;
}

std::int64_t advertisement_id(const std::string& text) {
    const auto id = parse_advertisement_number(text);
    if (!id)
        throw Error(ErrorCode::InvalidInput,
                    "\"" + text.substr(0, 40) + "\" is not an advertisement (ADV-NNNN)");
    return *id;
}

NewAdvertisement new_advertisement(const std::string& body) {
    json::FieldReader in(json::parse_object(body, "request body", 200), "request body");
    in.allow_only(advertisement_fields());
    return read_new_advertisement(in);
}

Poco::JSON::Object report_json(const std::string& id, const StatusReport& report) {
    Poco::JSON::Object o;
    o.set("advertisement", id);
    o.set("targeted", report.targeted);
    Poco::JSON::Object counts;
    std::int64_t reported = 0;
    for (const auto& [state, count] : report.counts) {
        counts.set(state, count);
        reported += count;
    }
    o.set("counts", counts);
    o.set("not_reported", std::max<std::int64_t>(0, report.targeted - reported));
    Poco::JSON::Array clients;
    for (const auto& row : report.clients) {
        Poco::JSON::Object c;
        c.set("client", row.client);
        c.set("hostname", row.hostname);
        c.set("state", row.state);
        if (row.exit_code) c.set("exit_code", *row.exit_code);
        if (!row.log_tail.empty()) c.set("log_tail", row.log_tail);
        c.set("at", row.at);
        clients.add(c);
    }
    o.set("clients", clients);
    return o;
}

}  // namespace

ApiAnswer advertisements_api(AdvertisementService& ads, const Principal& caller,
                             const std::string& method, const std::vector<std::string>& parts,
                             const std::string& body) {
    if (parts.empty() && method == "GET") {
        Poco::JSON::Array list;
        for (const auto& ad : ads.list(caller)) list.add(advertisement_json(ad));
        Poco::JSON::Object out;
        out.set("advertisements", list);
        return json_answer(200, out);
    }
    if (parts.empty() && method == "POST")
        return json_answer(201, advertisement_json(ads.create(caller, new_advertisement(body))));
    if (parts.size() == 1 && method == "GET")
        return json_answer(200, advertisement_json(ads.show(caller, advertisement_id(parts[0]))));
    if (parts.size() == 2 && method == "GET" && parts[1] == "status") {
        const std::int64_t id = advertisement_id(parts[0]);
        return json_answer(200, report_json(advertisement_number(id), ads.report(caller, id)));
    }
    if (parts.size() == 2 && method == "POST") {
        const std::string& verb = parts[1];
        const std::string to = verb == "halt"     ? "halted"
                               : verb == "resume" ? "active"
                               : verb == "cancel" ? "cancelled"
                                                  : "";
        if (!to.empty()) {
            std::string reason;
            if (!body.empty()) {
                json::FieldReader in(json::parse_object(body, "request body", 10), "request body");
                in.allow_only({"reason"});
                reason = in.string("reason", false, 2000);
            }
            return json_answer(200, advertisement_json(ads.change_state(
                                        caller, advertisement_id(parts[0]), to, reason)));
        }
    }
    throw Error(ErrorCode::NotFound, "no such route");
}

ApiAnswer status_api(AdvertisementService& ads, const Client& caller, const std::string& body) {
    json::FieldReader in(json::parse_object(body, "status", 16 * kMaxStatusBatch + 16), "status");
    in.allow_only({"messages"});
    const auto list = in.array("messages", true);
    if (list->size() > kMaxStatusBatch)
        throw Error(ErrorCode::LimitExceeded, "status: field \"messages\": at most " +
                                                  std::to_string(kMaxStatusBatch) + " per batch");
    std::vector<StatusMessage> messages;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string where = "messages[" + std::to_string(i) + "].";
        const auto item = list->getObject(static_cast<unsigned>(i));
        if (!item)
            throw Error(ErrorCode::InvalidInput, "status: field \"" + where + "\": not an object");
        json::FieldReader m(item, "status", where);
        m.allow_only({"seq", "advertisement", "state", "exit_code", "log_tail", "at"});
        StatusMessage message;
        message.seq = m.integer("seq", true, 1, INT64_MAX / 2);
        message.advertisement_id = advertisement_id(m.string("advertisement", true, 24));
        message.state = m.string("state", true, 32);
        if (m.has("exit_code")) message.exit_code = m.integer("exit_code", true, -1000, 1000);
        message.log_tail = m.multiline_string("log_tail", false, 8192);
        message.at = m.integer("at", true, 0, INT64_MAX / 2);
        messages.push_back(std::move(message));
    }
    const std::int64_t added = ads.report_status(caller, messages);
    Poco::JSON::Object out;
    out.set("accepted", static_cast<std::int64_t>(messages.size()));
    out.set("new", added);
    out.set("duplicates", static_cast<std::int64_t>(messages.size()) - added);
    return json_answer(200, out);
}

}  // namespace ferry::server
