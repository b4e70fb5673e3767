#include "dp_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "ferry/error.h"
#include "ferry/json.h"

namespace ferry::server {

ApiAnswer dps_api(DpService& dps, const Principal& caller, const std::string& method,
                  const std::vector<std::string>& parts, const std::string& body) {
    if (parts.empty() && method == "GET") {
        Poco::JSON::Array list;
        for (const auto& dp : dps.list(caller)) {
            Poco::JSON::Object o;
            o.set("name", dp.name);
            o.set("state", dp.revoked_at ? "revoked" : "active");
            o.set("created_by", dp.created_by);
            o.set("created_at", dp.created_at);
            if (dp.last_seen_at) o.set("last_seen_at", *dp.last_seen_at);
            list.add(o);
        }
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
