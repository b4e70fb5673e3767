#include "release_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "ferry/error.h"
#include "ferry/json.h"
#include "rfc.h"

namespace ferry::server {
namespace {

Poco::JSON::Array readiness_json(const Release& release) {
    Poco::JSON::Array items;
    for (const auto& item : readiness_checklist()) {
        Poco::JSON::Object o;
        o.set("item", item.number);
        o.set("text", std::string(item.text));
        o.set("role", std::string(role_name(item.signer)));
        std::string decision = "pending";
        Poco::JSON::Array signers;
        for (const auto& s : release.signoffs) {
            if (s.item != item.number) continue;
            if (decision != "no-go") decision = s.decision;
            Poco::JSON::Object signer;
            signer.set("signer", s.signer);
            signer.set("decision", s.decision);
            signer.set("note", s.note);
            signer.set("at", s.at);
            signers.add(signer);
        }
        o.set("decision", decision);
        o.set("signoffs", signers);
        items.add(o);
    }
    return items;
}

Poco::JSON::Object release_json(const Release& r) {
    Poco::JSON::Object o;
    o.set("reference", r.reference);
    o.set("title", r.title);
    o.set("description", r.description);
    o.set("priority", r.priority);
    o.set("state", r.state);
    if (!r.suspended_from.empty()) o.set("suspended_from", r.suspended_from);
    o.set("review_round", r.review_round);
    if (!r.closing_review.empty()) o.set("closing_review", r.closing_review);
    if (!r.closing_results.empty())
        o.set("closing_results", Poco::JSON::Parser().parse(r.closing_results));
    o.set("created_by", r.created_by);
    o.set("created_at", r.created_at);
    o.set("updated_at", r.updated_at);
    Poco::JSON::Array rfcs;
    for (std::int64_t id : r.rfcs) rfcs.add(rfc_number(id));
    o.set("rfcs", rfcs);
    Poco::JSON::Array packages;
    for (const auto& p : r.packages) packages.add(p.name + "@" + p.version);
    o.set("packages", packages);
    o.set("readiness", readiness_json(r));
    return o;
}

json::FieldReader request_body(const std::string& body) {
    return json::FieldReader(json::parse_object(body, "request body", 2000), "request body");
}

NewRelease new_release(const std::string& body) {
    auto in = request_body(body);
    in.allow_only({"title", "description", "priority", "rfcs", "packages"});
    NewRelease request;
    request.title = in.string("title", true, 200);
    request.description = in.string("description", false, 8000);
    if (in.has("priority")) request.priority = in.string("priority", true, 16);
    for (const auto& text : in.strings("rfcs", true, 100, 24)) {
        const auto id = parse_rfc_number(text);
        if (!id)
            throw Error(ErrorCode::InvalidInput,
                        "field \"rfcs\": \"" + text + "\" is not an RFC number (RFC-NNNN)");
        request.rfcs.push_back(*id);
    }
    for (const auto& text : in.strings("packages", true, 100, 200))
        request.packages.push_back(parse_package_ref(text, "packages"));
    return request;
}

}  // namespace

ApiAnswer releases_api(ReleaseService& releases, const Principal& caller, const std::string& method,
                       const std::vector<std::string>& parts, const std::string& body) {
    if (parts.empty() && method == "GET") {
        Poco::JSON::Array list;
        for (const auto& r : releases.list(caller)) list.add(release_json(r));
        Poco::JSON::Object out;
        out.set("releases", list);
        return json_answer(200, out);
    }
    if (parts.empty() && method == "POST")
        return json_answer(201, release_json(releases.create(caller, new_release(body))));
    if (parts.size() == 1 && method == "GET")
        return json_answer(200, release_json(releases.show(caller, parts[0])));
    if (parts.size() == 2 && method == "POST") {
        auto in = request_body(body);
        if (parts[1] == "packages") {
            in.allow_only({"package"});
            return json_answer(200,
                               release_json(releases.add_package(
                                   caller, parts[0],
                                   parse_package_ref(in.string("package", true, 200), "package"))));
        }
        if (parts[1] == "transition") {
            in.allow_only({"state", "reason"});
            return json_answer(200, release_json(releases.transition(
                                        caller, parts[0], in.string("state", true, 32),
                                        in.string("reason", false, 4000))));
        }
        if (parts[1] == "review") {
            in.allow_only({"item", "decision", "note"});
            const auto item = static_cast<int>(in.integer("item", true, 1, 1000));
            return json_answer(200, release_json(releases.review(caller, parts[0], item,
                                                                 in.string("decision", true, 16),
                                                                 in.string("note", false, 2000))));
        }
    }
    throw Error(ErrorCode::NotFound, "no such route");
}

}  // namespace ferry::server
