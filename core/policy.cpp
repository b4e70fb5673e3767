#include "ferry/policy.h"

#include <Poco/JSON/Array.h>

#include <algorithm>

#include "canonical_json.h"
#include "ferry/encoding.h"
#include "ferry/error.h"
#include "ferry/hash.h"
#include "ferry/json.h"
#include "ferry/maintenance_window.h"
#include "ferry/manifest.h"

namespace ferry {
namespace {

Error refused(const std::string& why) {
    return Error(ErrorCode::VerificationFailed, "policy refused: " + why);
}

Error bad(const std::string& where, const std::string& what) {
    return Error(ErrorCode::InvalidInput, where + ": " + what);
}

std::vector<std::string> string_list(const json::FieldReader& in, const std::string& field,
                                     std::size_t max_bytes) {
    std::vector<std::string> out;
    auto list = in.array(field, false);
    if (!list) return out;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto value = list->get(static_cast<unsigned>(i));
        const std::string where = in.where(field) + "[" + std::to_string(i) + "]";
        if (!value.isString()) throw bad(where, "must be a string");
        const std::string text = value.extract<std::string>();
        if (text.empty() || text.size() > max_bytes || !json::is_printable(text)) {
            throw bad(where, "must be 1-" + std::to_string(max_bytes) + " printable characters");
        }
        out.push_back(text);
    }
    return out;
}

void write_string_list(CanonicalJson& json, const char* key,
                       const std::vector<std::string>& items) {
    json.key(key);
    json.begin_array();
    for (const auto& item : items) json.string(item);
    json.end_array();
}

PublisherKey read_publisher(const json::FieldReader& in) {
    in.allow_only({"name", "key", "packages"});
    PublisherKey p;
    p.name = in.string("name", true, 128);
    p.public_key = in.string("key", true, 128);
    minisign::PublicKey::parse(p.public_key, in.where("key"));  // refuses a malformed key
    p.packages = string_list(in, "packages", 65);
    return p;
}

PolicyAdvertisement read_advertisement(const json::FieldReader& in) {
    in.allow_only({"id", "package", "version", "object_id", "size", "signature", "action",
                   "available_at", "deadline", "mandatory", "postpone_max", "postpone_max_delay_s",
                   "windows", "rollout_state"});
    PolicyAdvertisement a;
    a.id = in.string("id", true, 64);
    a.package = in.string("package", true, 64);
    if (!is_valid_package_name(a.package))
        throw bad(in.where("package"), "is not a valid package name");
    a.version = in.string("version", true, 64);
    if (!is_valid_version(a.version)) throw bad(in.where("version"), "is not a valid version");
    a.object_id = in.string("object_id", true, 64);
    if (!is_object_id(a.object_id))
        throw bad(in.where("object_id"), "must be 64 lowercase hex digits");
    a.size = static_cast<std::uint64_t>(in.integer("size", true, 0, INT64_MAX));
    a.signature = in.multiline_string("signature", true, 4096);
    minisign::Signature::parse(a.signature, in.where("signature"));  // refuses a malformed one
    a.action = in.string("action", true, 16);
    if (a.action != "install" && a.action != "uninstall")
        throw bad(in.where("action"), "must be install or uninstall");
    a.available_at = in.integer("available_at", true, 0, INT64_MAX);
    if (in.has("deadline")) a.deadline = in.integer("deadline", true, 0, INT64_MAX);
    a.mandatory = in.boolean("mandatory", true);
    a.postpone_max = static_cast<int>(in.integer("postpone_max", true, 0, 1000));
    a.postpone_max_delay_s = in.integer("postpone_max_delay_s", true, 0, INT64_MAX);
    a.windows = string_list(in, "windows", 64);
    for (const auto& window : a.windows) {  // one grammar with the site: a bad one is refused
        try {
            MaintenanceWindow::parse(window);
        } catch (const Error& e) {
            throw bad(in.where("windows"), e.what());
        }
    }
    a.rollout_state = in.string("rollout_state", true, 16);
    if (a.rollout_state != "active" && a.rollout_state != "halted" &&
        a.rollout_state != "cancelled") {
        throw bad(in.where("rollout_state"), "must be active, halted or cancelled");
    }
    return a;
}

// "policy<TAB>client:<id><TAB>version:<n><TAB>object:<hex>"
std::string trusted_comment_for(const std::string& client, std::uint64_t version,
                                const std::string& digest) {
    return "policy\tclient:" + client + "\tversion:" + std::to_string(version) +
           "\tobject:" + digest;
}

}  // namespace

std::string Policy::to_json() const {
    std::string out;
    CanonicalJson json(out);
    json.begin_object();
    json.key("advertisements");
    json.begin_array();
    for (const auto& a : advertisements) {
        json.begin_object();
        json.key("action");
        json.string(a.action);
        json.key("available_at");
        json.integer(a.available_at);
        if (a.deadline) {
            json.key("deadline");
            json.integer(*a.deadline);
        }
        json.key("id");
        json.string(a.id);
        json.key("mandatory");
        json.boolean(a.mandatory);
        json.key("object_id");
        json.string(a.object_id);
        json.key("package");
        json.string(a.package);
        json.key("postpone_max");
        json.integer(a.postpone_max);
        json.key("postpone_max_delay_s");
        json.integer(a.postpone_max_delay_s);
        json.key("rollout_state");
        json.string(a.rollout_state);
        json.key("signature");
        json.string(a.signature);
        json.key("size");
        json.number(a.size);
        json.key("version");
        json.string(a.version);
        write_string_list(json, "windows", a.windows);
        json.end_object();
    }
    json.end_array();
    json.key("client");
    json.string(client_id);
    json.key("expires_at");
    json.integer(expires_at);
    json.key("format");
    json.integer(kFormat);
    json.key("issued_at");
    json.integer(issued_at);
    json.key("publishers");
    json.begin_array();
    for (const auto& p : publishers) {
        json.begin_object();
        json.key("key");
        json.string(p.public_key);
        json.key("name");
        json.string(p.name);
        write_string_list(json, "packages", p.packages);
        json.end_object();
    }
    json.end_array();
    // Written only when there are some, so that policies without DPs keep their bytes.
    if (!sources.empty()) write_string_list(json, "sources", sources);
    json.key("version");
    json.number(version);
    json.end_object();
    out += '\n';
    return out;
}

Policy Policy::parse(const std::string& text, const std::string& source) {
    json::FieldReader in(json::parse_object(text, source, 1'000'000), source);
    in.allow_only({"format", "client", "version", "issued_at", "expires_at", "publishers",
                   "advertisements", "sources"});
    in.integer("format", true, kFormat, kFormat);
    Policy p;
    p.client_id = in.string("client", true, 128);
    p.version = static_cast<std::uint64_t>(in.integer("version", true, 1, INT64_MAX));
    p.issued_at = in.integer("issued_at", true, 0, INT64_MAX);
    p.expires_at = in.integer("expires_at", true, 0, INT64_MAX);
    if (auto list = in.array("publishers", true)) {
        for (std::size_t i = 0; i < list->size(); ++i) {
            auto object = list->getObject(static_cast<unsigned>(i));
            if (!object)
                throw bad(in.where("publishers") + "[" + std::to_string(i) + "]",
                          "must be an object");
            p.publishers.push_back(read_publisher(
                json::FieldReader(object, source, "publishers[" + std::to_string(i) + "].")));
        }
    }
    p.sources = in.strings("sources", false, kMaxPolicySources, kMaxSourceUrlBytes);
    for (std::size_t i = 0; i < p.sources.size(); ++i)
        if (!is_source_url(p.sources[i]))
            throw bad(in.where("sources") + "[" + std::to_string(i) + "]",
                      "\"" + p.sources[i] + "\" is not an http:// or https:// URL");
    if (auto list = in.array("advertisements", true)) {
        for (std::size_t i = 0; i < list->size(); ++i) {
            auto object = list->getObject(static_cast<unsigned>(i));
            if (!object)
                throw bad(in.where("advertisements") + "[" + std::to_string(i) + "]",
                          "must be an object");
            p.advertisements.push_back(read_advertisement(
                json::FieldReader(object, source, "advertisements[" + std::to_string(i) + "].")));
        }
    }
    return p;
}

bool is_source_url(const std::string& url) {
    std::size_t scheme = 0;
    if (url.rfind("http://", 0) == 0)
        scheme = 7;
    else if (url.rfind("https://", 0) == 0)
        scheme = 8;
    else
        return false;
    return url.size() > scheme && url.size() <= kMaxSourceUrlBytes && json::is_printable(url) &&
           url.find(' ') == std::string::npos;
}

SignedPolicy sign_policy(const Policy& policy, const minisign::SecretKey& site_key,
                         bool key_checked) {
    SignedPolicy signed_policy;
    signed_policy.json = policy.to_json();
    minisign::Prehash prehash{};
    Blake2b hasher(64);
    hasher.update(signed_policy.json.data(), signed_policy.json.size());
    hasher.finish(prehash.data());
    const std::string digest = hash_bytes(signed_policy.json.data(), signed_policy.json.size());
    const std::string comment = trusted_comment_for(policy.client_id, policy.version, digest);
    signed_policy.signature =
        (key_checked
             ? minisign::sign_prehash_unchecked(site_key, prehash, comment, "ferry site policy")
             : minisign::sign_prehash(site_key, prehash, comment, "ferry site policy"))
            .to_file_text();
    return signed_policy;
}

Policy verify_policy(const SignedPolicy& served, const minisign::PublicKey& site_key,
                     const std::string& client_id, const AcceptedPolicy& last, std::int64_t now) {
    if (served.json.size() > kMaxPolicyBytes) {
        throw Error(ErrorCode::LimitExceeded,
                    "policy refused: larger than " + std::to_string(kMaxPolicyBytes) + " bytes");
    }
    // 1. The site's signature over these exact bytes, before any of them is parsed.
    minisign::Signature signature;
    try {
        signature = minisign::Signature::parse(served.signature, "policy signature");
    } catch (const Error& e) {
        throw refused(e.what());
    }
    minisign::Prehash prehash{};
    Blake2b hasher(64);
    hasher.update(served.json.data(), served.json.size());
    hasher.finish(prehash.data());
    try {
        minisign::verify_prehash(site_key, signature, prehash);
    } catch (const Error& e) {
        throw refused(std::string("not signed by the site key: ") + e.what());
    }
    const std::string digest = hash_bytes(served.json.data(), served.json.size());
    // 2. The signed claims, which must describe exactly this document.
    const Policy policy = Policy::parse(served.json, "policy");
    if (signature.trusted_comment !=
        trusted_comment_for(policy.client_id, policy.version, digest)) {
        throw refused("the signed comment does not describe this document");
    }
    // 3. Addressee, freshness, expiry.
    if (policy.client_id != client_id)
        throw refused("addressed to client " + policy.client_id + ", not " + client_id);
    if (policy.version < last.version) {
        throw refused("version " + std::to_string(policy.version) +
                      " is older than the accepted version " + std::to_string(last.version));
    }
    if (policy.version == last.version && digest != last.digest) {
        throw refused("version " + std::to_string(policy.version) +
                      " was already accepted with different content");
    }
    if (now >= policy.expires_at) {
        throw refused("expired at " + std::to_string(policy.expires_at) + " (now " +
                      std::to_string(now) + ")");
    }
    return policy;
}

bool publisher_may_sign(const PublisherKey& publisher, const std::string& package) {
    return std::any_of(
        publisher.packages.begin(), publisher.packages.end(), [&](const std::string& pattern) {
            if (pattern == "*") return true;
            if (!pattern.empty() && pattern.back() == '*')
                return package.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
            return pattern == package;
        });
}

minisign::PublicKey publisher_key_for(const Policy& policy, const std::string& package,
                                      const minisign::Signature& signature) {
    std::string out_of_scope;
    for (const auto& publisher : policy.publishers) {
        const minisign::PublicKey key =
            minisign::PublicKey::parse(publisher.public_key, "publisher " + publisher.name);
        if (key.key_id != signature.key_id) continue;
        if (publisher_may_sign(publisher, package)) return key;
        out_of_scope = publisher.name;
    }
    minisign::PublicKey named;
    named.key_id = signature.key_id;
    if (!out_of_scope.empty()) {
        throw Error(ErrorCode::VerificationFailed, "publisher " + out_of_scope +
                                                       " may not sign package " + package +
                                                       " (outside its scope)");
    }
    throw Error(ErrorCode::VerificationFailed, "unknown signer: key " + named.key_id_hex() +
                                                   " is not a publisher this policy trusts");
}

}  // namespace ferry
