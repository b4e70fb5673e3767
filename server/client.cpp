#include "client.h"

#include <sodium.h>

#include <cctype>

#include "ferry/error.h"
#include "ferry/json.h"
#include "ferry/token.h"

namespace ferry::server {
namespace {

const char* kEnrolmentRefused = "enrolment refused: the secret is unknown, used up or expired";

std::string random_uid() {
    unsigned char bytes[8];
    randombytes_buf(bytes, sizeof bytes);
    static const char* hex = "0123456789abcdef";
    std::string uid = "cl_";
    for (unsigned char b : bytes) {
        uid += hex[b >> 4];
        uid += hex[b & 15];
    }
    return uid;
}

bool is_name(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    for (unsigned char c : name) {
        if (!std::islower(c) && !std::isdigit(c) && c != '.' && c != '_' && c != '-') return false;
    }
    return true;
}

bool is_hostname(const std::string& name) {
    if (name.empty() || name.size() > 253) return false;
    for (unsigned char c : name) {
        if (!std::isalnum(c) && c != '.' && c != '-' && c != '_') return false;
    }
    return true;
}

std::string bearer(const std::string& authorization) {
    const std::string prefix = "Bearer ";
    if (authorization.compare(0, prefix.size(), prefix) != 0) return "";
    return authorization.substr(prefix.size());
}

}  // namespace

bool is_fact_key(const std::string& key) {
    if (key.empty() || key.size() > 64 || !std::islower(static_cast<unsigned char>(key[0])))
        return false;
    char previous = 0;
    for (unsigned char c : key) {
        const bool ok = std::islower(c) || std::isdigit(c) || c == '_' || c == '.';
        if (!ok || (c == '.' && previous == '.')) return false;
        previous = static_cast<char>(c);
    }
    return key.back() != '.';
}

std::string ClientService::create_secret(const Principal& admin, const std::string& name,
                                         bool requires_approval, std::optional<std::int64_t> uses,
                                         std::int64_t valid_for_s) {
    UserService::require(admin, Permission::ManageClients, "create enrolment secrets");
    if (!is_name(name))
        throw Error(ErrorCode::InvalidInput, "field \"name\": 1-64 of a-z, 0-9, '.', '_', '-'");
    if (uses && (*uses < 1 || *uses > 1'000'000))
        throw Error(ErrorCode::InvalidInput, "field \"uses\": must be 1 to 1000000");
    if (valid_for_s < 0) throw Error(ErrorCode::InvalidInput, "field \"valid_for\": negative");
    const std::string secret = generate_token("enrol");
    EnrolmentSecret s;
    s.name = name;
    s.requires_approval = requires_approval;
    s.uses_left = uses;
    s.created_by = admin.name;
    s.created_at = clock_();
    if (valid_for_s > 0) s.expires_at = s.created_at + valid_for_s;
    store_.add_secret(s, token_digest(secret),
                      ChangeLogEntry{s.created_at, admin.name, "secret.create", name, "",
                                     std::string(requires_approval ? "needs approval" : "auto") +
                                         (uses ? ", " + std::to_string(*uses) + " use(s)" : "")});
    return secret;
}

std::vector<EnrolmentSecret> ClientService::secrets(const Principal& admin) {
    UserService::require(admin, Permission::ManageClients, "list enrolment secrets");
    return store_.secrets();
}

void ClientService::revoke_secret(const Principal& admin, const std::string& name) {
    UserService::require(admin, Permission::ManageClients, "revoke enrolment secrets");
    const std::int64_t now = clock_();
    if (!store_.revoke_secret(
            name, now, ChangeLogEntry{now, admin.name, "secret.revoke", name, "active", "revoked"}))
        throw Error(ErrorCode::NotFound, "no active enrolment secret " + name.substr(0, 64));
}

Enrolment ClientService::enrol(const std::string& secret, const std::string& hostname) {
    if (!is_hostname(hostname))
        throw Error(ErrorCode::InvalidInput,
                    "field \"hostname\": 1-253 of letters, digits, '.', '-', '_'");
    if (!is_well_formed_token(secret)) throw Error(ErrorCode::Unauthenticated, kEnrolmentRefused);
    const auto found = store_.secret_by_digest(token_digest(secret));
    const std::int64_t now = clock_();
    if (!found || found->revoked_at || (found->expires_at && *found->expires_at <= now) ||
        (found->uses_left && *found->uses_left <= 0))
        throw Error(ErrorCode::Unauthenticated, kEnrolmentRefused);
    Enrolment out;
    out.token = generate_token("client");
    out.client.uid = random_uid();
    out.client.hostname = hostname;
    out.client.state = found->requires_approval ? "pending" : "active";
    out.client.enrolled_at = now;
    if (!store_.enrol(*found, out.client, token_digest(out.token),
                      ChangeLogEntry{now, "secret:" + found->name, "client.enrol",
                                     out.client.uid + " " + hostname, "", out.client.state}))
        throw Error(ErrorCode::Unauthenticated, kEnrolmentRefused);
    return out;
}

Client ClientService::authenticate(const std::string& authorization) {
    const std::string token = bearer(authorization);
    if (token.rfind("client_", 0) == 0 && is_well_formed_token(token)) {
        auto client = store_.by_token_digest(token_digest(token));
        if (client && client->state != "revoked") {
            const std::int64_t now = clock_();
            // Last contact is kept to the minute: a poll every few seconds writes once a minute.
            if (!client->last_seen_at || *client->last_seen_at + 60 <= now) {
                store_.touch(client->id, now);
                client->last_seen_at = now;
            }
            return *client;
        }
    }
    throw Error(ErrorCode::Unauthenticated, "a valid client token is required");
}

void ClientService::require_self(const Client& caller, const std::string& uid,
                                 bool must_be_active) {
    if (caller.uid != uid)
        throw Error(ErrorCode::Forbidden, "client " + caller.uid + " may act only as itself");
    if (must_be_active && caller.state != "active")
        throw Error(ErrorCode::Forbidden,
                    "client " + caller.uid + " is " + caller.state + "; an admin must approve it");
}

bool ClientService::report_inventory(const Client& caller, const Inventory& inventory,
                                     const std::function<void(const InventoryChange&)>& within,
                                     const InventoryDiff* diff) {
    if (inventory.seq < 1) throw Error(ErrorCode::InvalidInput, "field \"seq\": must be >= 1");
    if (inventory.facts.size() > kMaxFacts)
        throw Error(ErrorCode::LimitExceeded,
                    "field \"facts\": more than " + std::to_string(kMaxFacts) + " facts");
    if (inventory.software.size() > kMaxSoftware)
        throw Error(ErrorCode::LimitExceeded,
                    "field \"software\": more than " + std::to_string(kMaxSoftware) + " packages");
    for (const auto& fact : inventory.facts) {
        if (!is_fact_key(fact.key))
            throw Error(ErrorCode::InvalidInput,
                        "field \"facts\": \"" + fact.key.substr(0, 64) +
                            "\" is not a fact name (lowercase, dotted, at most 64 characters)");
    }
    if (inventory.seq <= caller.inventory_seq) return false;  // a resend
    if (!inventory.full && inventory.base != caller.inventory_seq)
        throw Error(ErrorCode::Conflict,
                    "inventory change based on " + std::to_string(inventory.base) +
                        ", but the site holds " + std::to_string(caller.inventory_seq) +
                        "; send a full inventory");
    if (!store_.apply_inventory(caller.id, inventory, clock_(), within, diff))
        throw Error(ErrorCode::Conflict, "inventory changed meanwhile; send a full inventory");
    return true;
}

Client ClientService::show(const Principal& reader, const std::string& uid) {
    UserService::require(reader, Permission::ReadSite, "read clients");
    auto client = store_.find(uid, true);
    if (!client) throw Error(ErrorCode::NotFound, "no client " + uid.substr(0, 40));
    return *client;
}

ClientSummary ClientService::summary(const Principal& reader) {
    UserService::require(reader, Permission::ReadSite, "read clients");
    return store_.summary(clock_());
}

std::vector<ClientReport> ClientService::history(const Principal& reader, const std::string& uid,
                                                 int limit) {
    UserService::require(reader, Permission::ReadSite, "read clients");
    const auto client = store_.find(uid, false);
    if (!client) throw Error(ErrorCode::NotFound, "no client " + uid.substr(0, 40));
    return store_.reports(client->id, limit);
}

std::vector<Client> ClientService::list(const Principal& reader, int limit, std::int64_t after_id) {
    UserService::require(reader, Permission::ReadSite, "read clients");
    return store_.list(limit, after_id);
}

Client ClientService::approve(const Principal& admin, const std::string& uid) {
    UserService::require(admin, Permission::ManageClients, "approve clients");
    const std::int64_t now = clock_();
    if (!store_.set_state(
            uid, "pending", "active",
            ChangeLogEntry{now, admin.name, "client.approve", uid, "pending", "active"})) {
        const auto client = store_.find(uid, false);
        if (!client) throw Error(ErrorCode::NotFound, "no client " + uid.substr(0, 40));
        throw Error(ErrorCode::Conflict, "client " + uid + " is " + client->state +
                                             "; only a pending client is approved");
    }
    return show(admin, uid);
}

Client ClientService::revoke(const Principal& admin, const std::string& uid) {
    UserService::require(admin, Permission::ManageClients, "revoke clients");
    const auto client = store_.find(uid, false);
    if (!client) throw Error(ErrorCode::NotFound, "no client " + uid.substr(0, 40));
    if (client->state == "revoked")
        throw Error(ErrorCode::Conflict, "client " + uid + " is already revoked");
    const std::int64_t now = clock_();
    if (!store_.set_state(
            uid, client->state, "revoked",
            ChangeLogEntry{now, admin.name, "client.revoke", uid, client->state, "revoked"}))
        throw Error(ErrorCode::Conflict, "client " + uid + " changed meanwhile");
    return show(admin, uid);
}

}  // namespace ferry::server
