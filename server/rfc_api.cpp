#include "rfc_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <sstream>

#include "ferry/error.h"
#include "ferry/json.h"

namespace ferry::server {
namespace {

Poco::JSON::Object rfc_json(const Rfc& rfc) {
    Poco::JSON::Object o;
    o.set("number", rfc_number(rfc.id));
    o.set("title", rfc.title);
    o.set("description", rfc.description);
    o.set("business_need", rfc.business_need);
    o.set("risk", rfc.risk);
    o.set("requester", rfc.requester);
    o.set("state", rfc.state);
    o.set("needed", rfc.needed);
    o.set("created_at", rfc.created_at);
    Poco::JSON::Array votes;
    for (const auto& v : rfc.votes) {
        Poco::JSON::Object vote;
        vote.set("voter", v.voter);
        vote.set("decision", v.decision);
        vote.set("reason", v.reason);
        vote.set("at", v.at);
        votes.add(vote);
    }
    o.set("votes", votes);
    Poco::JSON::Array releases;
    for (const auto& reference : rfc.releases) releases.add(reference);
    o.set("releases", releases);
    return o;
}

std::int64_t rfc_id(const std::string& text) {
    const auto id = parse_rfc_number(text);
    if (!id)
        throw Error(ErrorCode::InvalidInput,
                    "\"" + text.substr(0, 40) + "\" is not an RFC number (RFC-NNNN)");
    return *id;
}

std::string reason_in(const std::string& body) {
    if (body.empty()) return {};
    json::FieldReader in(json::parse_object(body, "request body", 100), "request body");
    in.allow_only({"reason"});
    return in.string("reason", false, 2000);
}

}  // namespace

ApiAnswer rfcs_api(RfcService& rfcs, const Principal& caller, const std::string& method,
                   const std::vector<std::string>& parts, const std::string& body) {
    if (parts.empty() && method == "GET") {
        Poco::JSON::Array list;
        for (const auto& rfc : rfcs.list(caller)) list.add(rfc_json(rfc));
        Poco::JSON::Object out;
        out.set("rfcs", list);
        return json_answer(200, out);
    }
    if (parts.empty() && method == "POST") {
        json::FieldReader in(json::parse_object(body, "request body", 1000), "request body");
        in.allow_only({"title", "description", "business_need", "risk", "need"});
        NewRfc request;
        request.title = in.string("title", true, 200);
        request.description = in.string("description", false, 8000);
        request.business_need = in.string("business_need", false, 2000);
        if (in.has("risk")) request.risk = in.string("risk", true, 16);
        if (in.has("need")) request.needed = static_cast<int>(in.integer("need", true, 1, 20));
        return json_answer(201, rfc_json(rfcs.submit(caller, request)));
    }
    if (parts.size() == 1 && method == "GET")
        return json_answer(200, rfc_json(rfcs.show(caller, rfc_id(parts[0]))));
    if (parts.size() == 2 && method == "POST" && parts[1] == "approve") {
        return json_answer(200, rfc_json(rfcs.approve(caller, rfc_id(parts[0]), reason_in(body))));
    }
    if (parts.size() == 2 && method == "POST" && parts[1] == "reject") {
        return json_answer(200, rfc_json(rfcs.reject(caller, rfc_id(parts[0]), reason_in(body))));
    }
    throw Error(ErrorCode::NotFound, "no such route");
}

}  // namespace ferry::server
