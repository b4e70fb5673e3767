#include "client_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "advertisement.h"
#include "ferry/error.h"
#include "ferry/json.h"
#include "inventory_json.h"

namespace ferry::server {
namespace {

Poco::JSON::Object client_json(const Client& c, bool with_inventory) {
    Poco::JSON::Object o;
    o.set("id", c.uid);
    o.set("hostname", c.hostname);
    o.set("state", c.state);
    o.set("enrolled_at", c.enrolled_at);
    if (c.last_seen_at) o.set("last_seen_at", *c.last_seen_at);
    if (c.inventory_at) o.set("inventory_at", *c.inventory_at);
    o.set("inventory_seq", c.inventory_seq);
    if (!with_inventory) return o;
    Poco::JSON::Object facts;
    for (const auto& f : c.facts) {
        if (f.number)
            facts.set(f.key, *f.number);
        else
            facts.set(f.key, f.text);
    }
    o.set("facts", facts);
    Poco::JSON::Array software;
    for (const auto& s : c.software) {
        Poco::JSON::Object p;
        p.set("name", s.name);
        p.set("version", s.version);
        software.add(p);
    }
    o.set("software", software);
    return o;
}

Poco::JSON::Object summary_json(const ClientSummary& s) {
    Poco::JSON::Object o;
    o.set("total", s.total);
    o.set("active", s.active);
    o.set("pending", s.pending);
    o.set("revoked", s.revoked);
    o.set("seen_last_hour", s.seen_last_hour);
    o.set("seen_last_day", s.seen_last_day);
    return o;
}

Poco::JSON::Object report_json(const ClientReport& r) {
    Poco::JSON::Object o;
    o.set("advertisement", advertisement_number(r.advertisement_id));
    o.set("package", r.package);
    o.set("state", r.state);
    if (r.exit_code) o.set("exit_code", *r.exit_code);
    o.set("log_tail", r.log_tail);
    o.set("at", r.at);
    o.set("received_at", r.received_at);
    return o;
}

}  // namespace

Inventory parse_inventory(const std::string& body) { return inventory_from_json(body); }

ApiAnswer enrol_api(ClientService& clients, const std::string& body,
                    const std::string& site_public_key) {
    json::FieldReader in(json::parse_object(body, "request body", 100), "request body");
    in.allow_only({"secret", "hostname"});
    const Enrolment enrolment =
        clients.enrol(in.string("secret", true, 128), in.string("hostname", true, 253));
    Poco::JSON::Object out;
    out.set("client_id", enrolment.client.uid);
    out.set("token", enrolment.token);
    out.set("state", enrolment.client.state);
    out.set("site_public_key", site_public_key);
    return json_answer(201, out);
}

ApiAnswer clients_api(ClientService& clients, const Principal& caller, const std::string& method,
                      const std::vector<std::string>& parts,
                      const std::vector<std::pair<std::string, std::string>>& query) {
    if (parts.empty() && method == "GET") {
        const int limit = static_cast<int>(query_integer(query, "limit", 1000, 1, 10000));
        Poco::JSON::Array list;
        std::int64_t last = query_integer(query, "after", 0, 0, INT64_MAX / 2);
        for (const auto& c : clients.list(caller, limit, last)) {
            list.add(client_json(c, false));
            last = c.id;
        }
        Poco::JSON::Object out;
        out.set("clients", list);
        out.set("next_after", last);
        return json_answer(200, out);
    }
    if (parts.size() == 1 && parts[0] == "summary" && method == "GET")
        return json_answer(200, summary_json(clients.summary(caller)));
    if (parts.size() == 1 && method == "GET")
        return json_answer(200, client_json(clients.show(caller, parts[0]), true));
    if (parts.size() == 2 && parts[1] == "history" && method == "GET") {
        const int limit = static_cast<int>(query_integer(query, "limit", 100, 1, 1000));
        Poco::JSON::Array history;
        for (const auto& report : clients.history(caller, parts[0], limit))
            history.add(report_json(report));
        Poco::JSON::Object out;
        out.set("client", parts[0]);
        out.set("history", history);
        return json_answer(200, out);
    }
    if (parts.size() == 2 && method == "POST" && parts[1] == "approve")
        return json_answer(200, client_json(clients.approve(caller, parts[0]), false));
    if (parts.size() == 2 && method == "POST" && parts[1] == "revoke")
        return json_answer(200, client_json(clients.revoke(caller, parts[0]), false));
    throw Error(ErrorCode::NotFound, "no such route");
}

ApiAnswer client_self_api(const Client& caller, const std::string& method,
                          const std::vector<std::string>& parts, const std::string& body,
                          const std::function<bool(const Inventory&)>& report) {
    if (parts.size() == 2 && method == "POST" && parts[1] == "inventory") {
        ClientService::require_self(caller, parts[0], false);
        const Inventory inventory = parse_inventory(body);
        const bool changed = report(inventory);
        Poco::JSON::Object out;
        out.set("accepted", true);
        out.set("changed", changed);
        return json_answer(200, out);
    }
    throw Error(ErrorCode::Forbidden, "a client token reaches only the client's own routes");
}

ApiAnswer secrets_api(ClientService& clients, const Principal& caller, const std::string& method,
                      const std::vector<std::string>& parts, const std::string& body) {
    if (parts.empty() && method == "GET") {
        Poco::JSON::Array list;
        for (const auto& s : clients.secrets(caller)) {
            Poco::JSON::Object o;
            o.set("name", s.name);
            o.set("requires_approval", s.requires_approval);
            if (s.uses_left) o.set("uses_left", *s.uses_left);
            if (s.expires_at) o.set("expires_at", *s.expires_at);
            o.set("created_by", s.created_by);
            o.set("created_at", s.created_at);
            if (s.revoked_at) o.set("revoked_at", *s.revoked_at);
            list.add(o);
        }
        Poco::JSON::Object out;
        out.set("secrets", list);
        return json_answer(200, out);
    }
    if (parts.empty() && method == "POST") {
        json::FieldReader in(json::parse_object(body, "request body", 100), "request body");
        in.allow_only({"name", "requires_approval", "uses", "valid_for"});
        std::optional<std::int64_t> uses;
        if (in.has("uses")) uses = in.integer("uses", true, 1, 1'000'000);
        const std::string name = in.string("name", true, 64);
        const std::string secret =
            clients.create_secret(caller, name, in.boolean("requires_approval", false), uses,
                                  in.integer("valid_for", false, 0, 10 * 365 * 86400));
        Poco::JSON::Object out;
        out.set("name", name);
        out.set("secret", secret);
        return json_answer(201, out);
    }
    if (parts.size() == 2 && method == "POST" && parts[1] == "revoke") {
        clients.revoke_secret(caller, parts[0]);
        Poco::JSON::Object out;
        out.set("name", parts[0]);
        out.set("revoked", true);
        return json_answer(200, out);
    }
    throw Error(ErrorCode::NotFound, "no such route");
}

}  // namespace ferry::server
