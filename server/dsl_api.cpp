#include "dsl_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <sstream>

#include "ferry/error.h"
#include "ferry/json.h"

namespace ferry::server {
namespace {

Poco::JSON::Array string_array(const std::vector<std::string>& items) {
    Poco::JSON::Array list;
    for (const auto& item : items) list.add(item);
    return list;
}

Poco::JSON::Object version_json(const PackageVersion& v) {
    Poco::JSON::Object o;
    o.set("name", v.name);
    o.set("version", v.version);
    o.set("object_id", v.object_id);
    o.set("size", static_cast<Poco::UInt64>(v.size));
    o.set("publisher", v.publisher);
    o.set("registered_by", v.registered_by);
    o.set("registered_at", v.registered_at);
    if (v.retired_at) o.set("retired_at", *v.retired_at);
    return o;
}

}  // namespace

ApiAnswer publishers_api(DslService& dsl, const Principal& caller, const std::string& method,
                         const std::vector<std::string>& parts, const std::string& body) {
    if (!parts.empty()) throw Error(ErrorCode::NotFound, "no such route");
    if (method == "GET") {
        Poco::JSON::Array list;
        for (const auto& p : dsl.publishers(caller)) {
            Poco::JSON::Object o;
            o.set("name", p.key.name);
            o.set("key", p.key.public_key);
            o.set("packages", string_array(p.key.packages));
            list.add(o);
        }
        Poco::JSON::Object out;
        out.set("publishers", list);
        return json_answer(200, out);
    }
    if (method == "POST") {
        json::FieldReader in(json::parse_object(body, "request body", 10'000), "request body");
        in.allow_only({"name", "key", "packages"});
        const std::vector<std::string> packages = in.strings("packages", true, 1000, 200);
        const PublisherKey p = dsl.add_publisher(caller, in.string("name", true, 128),
                                                 in.string("key", true, 256), packages);
        Poco::JSON::Object out;
        out.set("name", p.name);
        out.set("key", p.public_key);
        out.set("packages", string_array(p.packages));
        return json_answer(201, out);
    }
    throw Error(ErrorCode::NotFound, "no such route");
}

ApiAnswer packages_api(DslService& dsl, const Principal& caller, const std::string& method,
                       const std::vector<std::string>& parts, const std::string& body) {
    if (method == "GET" && parts.size() <= 1) {
        Poco::JSON::Array list;
        const auto versions = dsl.versions(
            caller, parts.empty() ? std::nullopt : std::optional<std::string>(parts[0]));
        if (!parts.empty() && versions.empty())
            throw Error(ErrorCode::NotFound, "no package " + parts[0] + " in the library");
        for (const auto& v : versions) list.add(version_json(v));
        Poco::JSON::Object out;
        out.set("packages", list);
        return json_answer(200, out);
    }
    if (method == "POST" && parts.size() == 3 && parts[2] == "retire") {
        return json_answer(200, version_json(dsl.retire(caller, parts[0], parts[1])));
    }
    if (method == "POST" && parts.empty()) {
        json::FieldReader in(json::parse_object(body, "request body", 1000), "request body");
        in.allow_only({"object_id", "signature"});
        const std::string object_id = in.string("object_id", true, 64);
        const std::string signature = in.multiline_string("signature", true, 8192);
        return json_answer(201, version_json(dsl.register_package(caller, object_id, signature)));
    }
    throw Error(ErrorCode::NotFound, "no such route");
}

ApiAnswer gc_api(DslService& dsl, const Principal& caller, const std::string& method,
                 const std::string& body) {
    if (method != "POST") throw Error(ErrorCode::NotFound, "no such route (POST to collect)");
    bool dry_run = false;
    if (!body.empty()) {
        json::FieldReader in(json::parse_object(body, "request body", 10), "request body");
        in.allow_only({"dry_run"});
        dry_run = in.boolean("dry_run", false);
    }
    const auto collected = dsl.collect_garbage(caller, dry_run);
    Poco::JSON::Object out;
    out.set("dry_run", dry_run);
    out.set("objects", string_array(collected.objects));
    out.set("bytes", static_cast<Poco::UInt64>(collected.bytes));
    return json_answer(200, out);
}

}  // namespace ferry::server
