#include "site_server.h"

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>

#include <chrono>
#include <ctime>
#include <sstream>

#include "advertisement_api.h"
#include "backout_api.h"
#include "client_api.h"
#include "collection.h"
#include "collection_api.h"
#include "console_files.h"
#include "dp_api.h"
#include "dsl_api.h"
#include "fault_log.h"
#include "feed_api.h"
#include "ferry/error.h"
#include "ferry/json.h"
#include "ferry/minisign.h"
#include "ferry/sqlite.h"
#include "http_exchange.h"
#include "http_front.h"
#include "idle_poll_answers.h"
#include "inventory_writer.h"
#include "listen_socket.h"
#include "object_api.h"
#include "release_api.h"
#include "release_report.h"
#include "rfc_api.h"
#include "rollout_api.h"
#include "site_gauges.h"
#include "site_schema.h"
#include "sqlite_advertisement_store.h"
#include "sqlite_backout_store.h"
#include "sqlite_client_store.h"
#include "sqlite_collection_store.h"
#include "sqlite_dp_store.h"
#include "sqlite_dsl_store.h"
#include "sqlite_policy_store.h"
#include "sqlite_release_store.h"
#include "sqlite_rfc_store.h"
#include "sqlite_rollout_store.h"
#include "sqlite_user_store.h"
#include "user_api.h"
#include "user_service.h"

namespace ferry::server {
namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

void send(HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
          const std::string& content_type, const std::string& body) {
    response.setStatusAndReason(status);
    response.setContentType(content_type);
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.set("Cache-Control", "no-store");
    response.send() << body;
}

void send_error(HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
                const std::string& code, const std::string& message) {
    Poco::JSON::Object body;  // serialised by Poco: a message may quote request input
    body.set("error", code);
    body.set("message", message);
    std::ostringstream out;
    body.stringify(out);
    out << "\n";
    send(response, status, "application/json", out.str());
}

// The one mapping from error codes to HTTP statuses.
HTTPResponse::HTTPStatus status_for(ErrorCode code) {
    switch (code) {
        case ErrorCode::InvalidInput:
            return HTTPResponse::HTTP_BAD_REQUEST;
        case ErrorCode::NotFound:
            return HTTPResponse::HTTP_NOT_FOUND;
        case ErrorCode::AlreadyExists:
        case ErrorCode::Conflict:
            return HTTPResponse::HTTP_CONFLICT;
        case ErrorCode::Unauthenticated:
            return HTTPResponse::HTTP_UNAUTHORIZED;
        case ErrorCode::Forbidden:
            return HTTPResponse::HTTP_FORBIDDEN;
        case ErrorCode::VerificationFailed:
        case ErrorCode::UnsafeArchive:
            return HTTPResponse::HTTP_UNPROCESSABLE_ENTITY;
        case ErrorCode::LimitExceeded:
            return HTTPResponse::HTTP_REQUESTENTITYTOOLARGE;
        default:
            return HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
    }
}

constexpr std::size_t kMaxJsonBody = 64 << 10;
constexpr std::size_t kMaxRelayBody = 16 << 20;  // a DP's batch of its clients' reports

// Reads a JSON request body of at most kMaxJsonBody bytes.
// A body a little too large is read and dropped before the 413, so that the client, still
// sending, reads the answer instead of a connection reset; a much larger one is not read.
constexpr std::size_t kMaxDrainedBody = 1 << 20;

void drain(std::istream& in, std::size_t limit) {
    char chunk[8192];
    std::size_t total = 0;
    while (total < limit && (in.read(chunk, sizeof chunk) || in.gcount() > 0))
        total += static_cast<std::size_t>(in.gcount());
}

std::string read_body(HTTPServerRequest& request, std::size_t limit = kMaxJsonBody) {
    if (request.hasContentLength() &&
        request.getContentLength64() > static_cast<Poco::Int64>(limit)) {
        if (request.getContentLength64() <= static_cast<Poco::Int64>(kMaxDrainedBody))
            drain(request.stream(), kMaxDrainedBody);
        throw Error(ErrorCode::LimitExceeded,
                    "request body larger than " + std::to_string(limit) + " bytes");
    }
    std::string body;
    // Sized once from the announced length (already checked against `limit`): an inventory
    // report is 10-20 KiB, grown chunk by chunk it was reallocated and copied several times.
    if (request.hasContentLength() && request.getContentLength64() > 0)
        body.reserve(static_cast<std::size_t>(request.getContentLength64()));
    char chunk[8192];
    std::istream& in = request.stream();
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
        body.append(chunk, static_cast<std::size_t>(in.gcount()));
        if (body.size() > limit) {
            throw Error(ErrorCode::LimitExceeded,
                        "request body larger than " + std::to_string(limit) + " bytes");
        }
    }
    return body;
}

// A metrics label for a path segment: the segment when it is one of the route's known actions,
// else "{other}", so that no request can add series of its own making.
std::string action_label(const std::string& segment, std::initializer_list<const char*> known) {
    for (const char* action : known) {
        if (segment == action) return segment;
    }
    return "{other}";
}

std::vector<std::string> segments_after(const std::string& path, const std::string& prefix) {
    std::vector<std::string> parts;
    std::string rest = path.substr(prefix.size());
    std::size_t start = 0;
    while (start < rest.size()) {
        if (rest[start] == '/') {
            ++start;
            continue;
        }
        const auto slash = rest.find('/', start);
        parts.push_back(
            rest.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return parts;
}

// What the site's request handlers share; SiteServer owns each part and outlives them all.
struct SiteParts {
    const SiteConfig& config;
    Metrics& metrics;
    ConnectionPool& pool;
    InventoryWriter& inventory_writer;
    LastContactWriter& contacts;
    SoftwareIds& software_ids;
};

// One handler object per request (Poco's model); routing by exact path and method.
class RouteHandler : public Poco::Net::HTTPRequestHandler {
  public:
    explicit RouteHandler(const SiteParts& site)
        : config_(site.config),
          metrics_(site.metrics),
          pool_(site.pool),
          inventory_writer_(site.inventory_writer),
          contacts_(site.contacts),
          software_ids_(site.software_ids) {}

    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
        const auto start = std::chrono::steady_clock::now();
        std::string route = "unmatched";
        try {
            set_security_headers(response);
            const std::string path = request.getURI().substr(0, request.getURI().find('?'));
            if (path == "/" || path == "/console") {
                route = "/console/";
                redirect(response, "/console/");
            } else if (path.rfind("/console/", 0) == 0) {
                route = "/console/";
                ConsoleFiles(config_.console_dir)
                    .serve(path.substr(std::string("/console/").size()), request, response);
            } else if (path == "/api/v1/whoami") {
                route = "/api/v1/whoami";
                json_resource(request, response,
                              [&](sql::Database&, const Principal& caller, const std::string&) {
                                  return whoami_api(caller, request.getMethod());
                              });
            } else if (path == "/healthz") {
                route = "/healthz";
                if (!only_get(request, response)) return record(route, response, start);
                health(response);
            } else if (path == "/metrics") {
                route = "/metrics";
                if (!only_get(request, response)) return record(route, response, start);
                auto lease = pool_.acquire();
                send(response, HTTPResponse::HTTP_OK, "text/plain; version=0.0.4",
                     metrics_.render(read_site_gauges(*lease)));
            } else if (path == "/api/v1/objects") {
                route = "/api/v1/objects";
                if (request.getMethod() != "POST")
                    throw Error(ErrorCode::NotFound, "no such route (POST an object here)");
                objects(request, response, "");
            } else if (path.rfind("/api/v1/objects/", 0) == 0) {
                route = "/api/v1/objects/{id}";
                objects(request, response, path.substr(std::string("/api/v1/objects/").size()));
            } else if (path == "/api/v1/publishers" || path == "/api/v1/packages" ||
                       path.rfind("/api/v1/packages/", 0) == 0) {
                const bool publishers = path == "/api/v1/publishers";
                const auto parts =
                    segments_after(path, publishers ? "/api/v1/publishers" : "/api/v1/packages");
                route = publishers         ? "/api/v1/publishers"
                        : parts.empty()    ? "/api/v1/packages"
                        : parts.size() < 3 ? "/api/v1/packages/{name}"
                                           : "/api/v1/packages/{name}/{version}/retire";
                dsl(request, response, publishers, parts);
            } else if (path == "/api/v1/rfcs" || path.rfind("/api/v1/rfcs/", 0) == 0) {
                const auto parts = segments_after(path, "/api/v1/rfcs");
                route = parts.empty()       ? "/api/v1/rfcs"
                        : parts.size() == 1 ? "/api/v1/rfcs/{number}"
                                            : "/api/v1/rfcs/{number}/{decision}";
                rfcs(request, response, parts);
            } else if (path == "/api/v1/releases" || path.rfind("/api/v1/releases/", 0) == 0) {
                const auto parts = segments_after(path, "/api/v1/releases");
                route = parts.empty() ? "/api/v1/releases"
                        : parts.size() == 1
                            ? "/api/v1/releases/{ref}"
                            : "/api/v1/releases/{ref}/" +
                                  action_label(parts[1], {"packages", "transition", "review",
                                                          "backout", "report"});
                releases(request, response, parts);
            } else if (path == "/api/v1/changelog") {
                route = "/api/v1/changelog";
                json_resource(request, response,
                              [&](sql::Database& db, const Principal& caller, const std::string&) {
                                  SqliteUserStore store(db);
                                  UserService service(store, wall_clock());
                                  return changelog_api(
                                      service, caller, request.getMethod(),
                                      Poco::URI(request.getURI()).getQueryParameters());
                              });
            } else if (path == "/api/v1/collections" ||
                       path.rfind("/api/v1/collections/", 0) == 0) {
                const auto parts = segments_after(path, "/api/v1/collections");
                route = parts.empty()       ? "/api/v1/collections"
                        : parts.size() == 1 ? "/api/v1/collections/{name}"
                                            : "/api/v1/collections/{name}/members";
                json_resource(
                    request, response,
                    [&](sql::Database& db, const Principal& caller, const std::string& body) {
                        SqliteCollectionStore store(db);
                        CollectionService service(store, wall_clock());
                        return collections_api(service, caller, request.getMethod(), parts, body,
                                               static_cast<int>(query_integer(
                                                   Poco::URI(request.getURI()).getQueryParameters(),
                                                   "limit", 100'000, 1, 100'000)));
                    });
            } else if (path == "/api/v1/advertisements" ||
                       path.rfind("/api/v1/advertisements/", 0) == 0) {
                const auto parts = segments_after(path, "/api/v1/advertisements");
                route = parts.empty() ? "/api/v1/advertisements"
                        : parts.size() == 1
                            ? "/api/v1/advertisements/{id}"
                            : "/api/v1/advertisements/{id}/" +
                                  action_label(parts[1], {"halt", "resume", "cancel", "status"});
                json_resource(
                    request, response,
                    [&](sql::Database& db, const Principal& caller, const std::string& body) {
                        SqliteAdvertisementStore store(db);
                        AdvertisementService service(store, wall_clock());
                        return advertisements_api(service, caller, request.getMethod(), parts,
                                                  body);
                    });
            } else if (path == "/api/v1/rollouts" || path.rfind("/api/v1/rollouts/", 0) == 0) {
                const auto parts = segments_after(path, "/api/v1/rollouts");
                route = parts.empty() ? "/api/v1/rollouts"
                        : parts.size() == 1
                            ? "/api/v1/rollouts/{id}"
                            : "/api/v1/rollouts/{id}/" +
                                  action_label(parts[1],
                                               {"halt", "resume", "cancel", "advance", "report"});
                json_resource(
                    request, response,
                    [&](sql::Database& db, const Principal& caller, const std::string& body) {
                        SqliteAdvertisementStore ad_store(db);
                        AdvertisementService ads(ad_store, wall_clock());
                        SqliteRolloutStore store(db);
                        RolloutService service(store, wall_clock());
                        return rollouts_api(service, ads, caller, request.getMethod(), parts, body);
                    });
            } else if (path == "/api/v1/dps/relay") {
                route = "/api/v1/dps/relay";
                relay(request, response);
            } else if (path == "/api/v1/dps" || path.rfind("/api/v1/dps/", 0) == 0) {
                const auto parts = segments_after(path, "/api/v1/dps");
                route =
                    parts.empty()                                 ? "/api/v1/dps"
                    : parts.size() == 1 && parts[0] == "register" ? "/api/v1/dps/register"
                    : parts.size() == 1
                        ? "/api/v1/dps/{name}"
                        : "/api/v1/dps/{name}/" +
                              action_label(parts[1], {"revoke", "assign", "schedule", "replica"});
                json_resource(
                    request, response,
                    [&](sql::Database& db, const Principal& caller, const std::string& body) {
                        SqliteDpStore store(db);
                        DpService service(store, wall_clock());
                        return dps_api(service, caller, request.getMethod(), parts, body);
                    });
            } else if (path == "/api/v1/gc") {
                route = "/api/v1/gc";
                json_resource(
                    request, response,
                    [&](sql::Database& db, const Principal& caller, const std::string& body) {
                        SqliteDslStore store(db);
                        const ObjectStore objects(config_.data_dir);
                        DslService service(store, objects, wall_clock());
                        return gc_api(service, caller, request.getMethod(), body);
                    });
            } else if (path == "/api/v1/status") {
                route = "/api/v1/status";
                status(request, response);
            } else if (path == "/api/v1/feed") {
                route = "/api/v1/feed";
                json_resource(request, response,
                              [&](sql::Database& db, const Principal& caller, const std::string&) {
                                  return feed_api(db, caller, request.getMethod(),
                                                  Poco::URI(request.getURI()).getQueryParameters());
                              });
            } else if (path == "/api/v1/secrets" || path.rfind("/api/v1/secrets/", 0) == 0) {
                const auto parts = segments_after(path, "/api/v1/secrets");
                route = parts.empty() ? "/api/v1/secrets" : "/api/v1/secrets/{name}/revoke";
                json_resource(
                    request, response,
                    [&](sql::Database& db, const Principal& caller, const std::string& body) {
                        SqliteClientStore store(db);
                        ClientService service(store, wall_clock());
                        return secrets_api(service, caller, request.getMethod(), parts, body);
                    });
            } else if (path == "/api/v1/clients" || path.rfind("/api/v1/clients/", 0) == 0) {
                const auto parts = segments_after(path, "/api/v1/clients");
                route = parts.empty()                                ? "/api/v1/clients"
                        : parts.size() == 1 && parts[0] == "enroll"  ? "/api/v1/clients/enroll"
                        : parts.size() == 1 && parts[0] == "summary" ? "/api/v1/clients/summary"
                        : parts.size() == 1
                            ? "/api/v1/clients/{id}"
                            : "/api/v1/clients/{id}/" +
                                  action_label(parts[1], {"policy", "inventory", "approve",
                                                          "revoke", "history"});
                clients(request, response, parts);
            } else if (path == "/api/v1/users" || path.rfind("/api/v1/users/", 0) == 0) {
                const auto parts = segments_after(path, "/api/v1/users");
                route = parts.empty()
                            ? "/api/v1/users"
                            : "/api/v1/users/{name}/" +
                                  (parts.size() > 1 ? std::string("revoke") : std::string("?"));
                users(request, response, parts);
            } else {
                send_error(response, HTTPResponse::HTTP_NOT_FOUND, "not-found", "no such route");
            }
        } catch (const Error& e) {
            const auto status = status_for(e.code());
            if (status == HTTPResponse::HTTP_INTERNAL_SERVER_ERROR) {
                log_fault("error", "request failed", e.what(), {{"route", route}});
            }
            if (status == HTTPResponse::HTTP_UNAUTHORIZED)
                response.set("WWW-Authenticate", "Bearer");
            // A refused request may still be sending its body: read a small one to its end so
            // the client gets the answer rather than a connection reset.
            if (!response.sent() && request.hasContentLength() &&
                request.getContentLength64() <= static_cast<Poco::Int64>(kMaxDrainedBody)) {
                drain(request.stream(), kMaxDrainedBody);
            } else if (!response.sent()) {
                response.setKeepAlive(false);
            }
            if (!response.sent()) {
                send_error(response, status, error_code_name(e.code()),
                           status == HTTPResponse::HTTP_INTERNAL_SERVER_ERROR ? "internal error"
                                                                              : e.what());
            }
        } catch (const std::exception& e) {
            // Logged with context; the client learns only that it was our fault.
            log_fault("error", "request failed", e.what(), {{"route", route}});
            if (!response.sent())
                send_error(response, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal",
                           "internal error");
        }
        record(route, response, start);
    }

  private:
    bool only_get(HTTPServerRequest& request, HTTPServerResponse& response) {
        if (request.getMethod() == "GET" || request.getMethod() == "HEAD") return true;
        response.set("Allow", "GET, HEAD");
        send_error(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "method-not-allowed",
                   "use GET");
        return false;
    }

    static void redirect(HTTPServerResponse& response, const std::string& location) {
        response.set("Location", location);
        send(response, HTTPResponse::HTTP_FOUND, "text/plain; charset=utf-8",
             "the console is at " + location + "\n");
    }

    void health(HTTPServerResponse& response) {
        auto lease = pool_.acquire();
        sql::Database& db = *lease;
        const int version = db.user_version();
        send(response, HTTPResponse::HTTP_OK, "application/json",
             "{\"status\": \"ok\", \"role\": \"" + config_.role +
                 "\", \"schema\": " + std::to_string(version) + "}\n");
    }

    static Clock wall_clock() {
        return [] { return static_cast<std::int64_t>(::time(nullptr)); };
    }

    // People carry user tokens; distribution points dp_ tokens (the dp role); clients client_
    // tokens (the client role).
    Principal authenticate(sql::Database& db, HTTPServerRequest& request) {
        const std::string authorization = request.get("Authorization", "");
        if (authorization.rfind("Bearer dp_", 0) == 0) {
            SqliteDpStore store(db);
            return DpService(store, wall_clock()).authenticate(authorization);
        }
        if (authorization.rfind("Bearer client_", 0) == 0) {
            // A client reaches objects (to download what its policy names) and nothing else
            // through this path; its own routes authenticate it as a Client.
            SqliteClientStore store(db, &contacts_);
            const Client client = ClientService(store, wall_clock()).authenticate(authorization);
            ClientService::require_self(client, client.uid, true);
            return Principal{"client:" + client.uid, Role::Client};
        }
        SqliteUserStore store(db);
        return UserService(store, wall_clock()).authenticate(authorization);
    }

    void objects(HTTPServerRequest& request, HTTPServerResponse& response, const std::string& id) {
        auto lease = pool_.acquire();
        sql::Database& db = *lease;
        const Principal caller = authenticate(db, request);
        const ObjectStore objects(config_.data_dir);
        ObjectApiLimits limits;
        limits.plain_socket = config_.tls_certificate.empty();  // sendfile only without TLS
        metrics_.add_bytes_served(objects_api(objects, caller, id, request, response, limits));
    }

    // A JSON resource: one connection, the caller authenticated, the body read for POST, and
    // the handler's answer sent.
    template <typename Handler>
    void json_resource(HTTPServerRequest& request, HTTPServerResponse& response,
                       Handler&& handler) {
        auto lease = pool_.acquire();
        sql::Database& db = *lease;
        const Principal caller = authenticate(db, request);
        const std::string body = request.getMethod() == "POST" ? read_body(request) : std::string();
        const ApiAnswer answer = handler(db, caller, body);
        send(response, static_cast<HTTPResponse::HTTPStatus>(answer.status), "application/json",
             answer.json);
    }

    void dsl(HTTPServerRequest& request, HTTPServerResponse& response, bool publishers,
             const std::vector<std::string>& parts) {
        json_resource(
            request, response,
            [&](sql::Database& db, const Principal& caller, const std::string& body) {
                SqliteDslStore dsl_store(db);
                const ObjectStore objects(config_.data_dir);
                DslService service(dsl_store, objects, wall_clock());
                return publishers
                           ? publishers_api(service, caller, request.getMethod(), parts, body)
                           : packages_api(service, caller, request.getMethod(), parts, body);
            });
    }

    void rfcs(HTTPServerRequest& request, HTTPServerResponse& response,
              const std::vector<std::string>& parts) {
        json_resource(request, response,
                      [&](sql::Database& db, const Principal& caller, const std::string& body) {
                          SqliteRfcStore store(db);
                          RfcService service(store, wall_clock());
                          return rfcs_api(service, caller, request.getMethod(), parts, body);
                      });
    }

    void clients(HTTPServerRequest& request, HTTPServerResponse& response,
                 const std::vector<std::string>& parts) {
        const std::string& method = request.getMethod();
        auto lease = pool_.acquire();
        sql::Database& db = *lease;
        SqliteClientStore store(db, &contacts_);
        ClientService service(store, wall_clock());
        ApiAnswer answer;
        if (parts.size() == 2 && parts[1] == "policy" && (method == "GET" || method == "HEAD")) {
            const std::string authorization = request.get("Authorization", "");
            if (authorization.rfind("Bearer client_", 0) == 0) {
                ClientService::require_self(service.authenticate(authorization), parts[0], true);
            } else {
                const Principal caller = authenticate(db, request);
                UserService::require(caller, Permission::ReadContent, "read client policies");
                const auto client = store.find(parts[0], false);
                if (!client)
                    throw Error(ErrorCode::NotFound, "no client " + parts[0].substr(0, 40));
                if (client->state != "active")
                    throw Error(ErrorCode::Conflict, "client " + client->uid + " is " +
                                                         client->state + "; it has no policy");
                // A DP holds the policies of the clients it serves, and drops the others on
                // this answer (server/dp_replicator.cpp).
                if (caller.role == Role::DistributionPoint &&
                    !SqliteDpStore(db).serves(DpService::require_dp(caller, "serves policies"),
                                              client->id))
                    throw Error(ErrorCode::NotFound, "client " + client->uid +
                                                         " is not served by distribution point " +
                                                         caller.name.substr(3));
            }
            return serve_policy(request, response, db, parts[0]);
        }
        if (parts.size() == 1 && parts[0] == "enroll" && method == "POST") {
            answer = enrol_api(service, read_body(request), site_public_key());
        } else if (request.get("Authorization", "").rfind("Bearer client_", 0) == 0) {
            const Client caller = service.authenticate(request.get("Authorization", ""));
            const std::string body =
                method == "POST" ? read_body(request, kMaxInventoryBody) : std::string();
            answer = client_self_api(caller, method, parts, body, [&](const Inventory& inventory) {
                // What a full report changes is read here, on this request's connection, so
                // that only the writes wait for the writer (a report ahead in the queue may
                // still move the client on: the writer then works it out again).
                std::optional<InventoryDiff> diff;
                if (inventory.full && inventory.seq > caller.inventory_seq)
                    diff = SqliteClientStore(db, nullptr, &software_ids_)
                               .diff_inventory(caller.id, inventory);
                return inventory_writer_.write([&](sql::Database& writer) {
                    SqliteClientStore store(writer, nullptr, &software_ids_);
                    return ClientService(store, wall_clock())
                        .report_inventory(caller, inventory, memberships_follow(writer, caller.id),
                                          diff ? &*diff : nullptr);
                });
            });
        } else {
            const Principal caller = authenticate(db, request);
            if (method == "POST") read_body(request);
            answer = clients_api(service, caller, method, parts,
                                 Poco::URI(request.getURI()).getQueryParameters());
        }
        send(response, static_cast<HTTPResponse::HTTPStatus>(answer.status), "application/json",
             answer.json);
    }

    // What runs inside the transaction that applies a client's inventory: its collection
    // memberships move with it, under the same write lock (one per report, not one per
    // collection) and with no moment where one is stored without the other.
    static std::function<void(const InventoryChange&)> memberships_follow(sql::Database& db,
                                                                          std::int64_t client_id) {
        return [&db, client_id](const InventoryChange& change) {
            SqliteCollectionStore collections(db);
            CollectionService(collections, wall_clock()).refresh_client(client_id, &change);
        };
    }

    // The signed policy in an envelope: {"policy": "<the signed JSON text>", "signature":
    // "<.minisig text>"}. ETag names the version and bytes, so an idle poll is a 304.
    void serve_policy(HTTPServerRequest& request, HTTPServerResponse& response, sql::Database& db,
                      const std::string& uid) {
        SqlitePolicyStore store(db);
        // An idle poll reads only the ETag.
        const auto etag = store.etag_of(uid);
        if (etag && request.get("If-None-Match", "") == *etag) {
            response.set("ETag", *etag);
            response.set("Cache-Control", "no-cache");
            response.setStatusAndReason(HTTPResponse::HTTP_NOT_MODIFIED);
            response.setContentLength(0);
            response.send();
            return;
        }
        const auto policy = store.by_uid(uid);
        if (!policy) {
            response.set("Retry-After", "2");
            send_error(response, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "not-ready",
                       "the policy of " + uid.substr(0, 40) + " is being built; retry shortly");
            return;
        }
        response.set("ETag", policy->etag);
        response.set("Cache-Control", "no-cache");
        if (request.get("If-None-Match", "") == policy->etag) {
            response.setStatusAndReason(HTTPResponse::HTTP_NOT_MODIFIED);
            response.setContentLength(0);
            response.send();
            return;
        }
        Poco::JSON::Object envelope;
        envelope.set("client_id", uid);
        envelope.set("version", static_cast<Poco::UInt64>(policy->version));
        envelope.set("policy", policy->json);
        envelope.set("signature", policy->signature);
        std::ostringstream out;
        envelope.stringify(out);
        out << "\n";
        response.setStatusAndReason(HTTPResponse::HTTP_OK);
        response.setContentType("application/json");
        response.setContentLength(static_cast<std::streamsize>(out.str().size()));
        if (request.getMethod() == "HEAD")
            response.send();
        else
            response.send() << out.str();
    }

    // The site's public key as `minisign -G` wrote it (the base64 line), for enrolling agents.
    std::string site_public_key() const {
        return minisign::PublicKey::load(config_.site_pub_path()).to_base64();
    }

    void status(HTTPServerRequest& request, HTTPServerResponse& response) {
        if (request.getMethod() != "POST")
            throw Error(ErrorCode::NotFound, "no such route (status is POSTed by clients)");
        auto lease = pool_.acquire();
        sql::Database& db = *lease;
        SqliteClientStore clients(db, &contacts_);
        const Client caller =
            ClientService(clients, wall_clock()).authenticate(request.get("Authorization", ""));
        if (caller.state != "active")
            throw Error(ErrorCode::Forbidden, "client " + caller.uid + " is " + caller.state);
        const std::string body = read_body(request, kMaxStatusBody);
        SqliteAdvertisementStore store(db);
        AdvertisementService service(store, wall_clock());
        const ApiAnswer answer = status_api(service, caller, body);
        send(response, static_cast<HTTPResponse::HTTPStatus>(answer.status), "application/json",
             answer.json);
    }

    // Reports a distribution point stored for its clients, each handled exactly as if that
    // client had sent it (same checks, same de-duplication by the agent's sequence numbers).
    void relay(HTTPServerRequest& request, HTTPServerResponse& response) {
        if (request.getMethod() != "POST")
            throw Error(ErrorCode::NotFound, "no such route (distribution points POST relays)");
        auto lease = pool_.acquire();
        sql::Database& db = *lease;
        const Principal caller = authenticate(db, request);
        DpService::require_dp(caller, "relays reports");
        const auto body =
            json::parse_object(read_body(request, kMaxRelayBody), "request body", 4'000'000);
        json::FieldReader in(body, "request body");
        in.allow_only({"items"});
        const auto items = in.array("items", true);
        if (items->size() > 1000)
            throw Error(ErrorCode::LimitExceeded, "field \"items\": at most 1000 per relay");
        Poco::JSON::Array results;
        for (std::size_t i = 0; i < items->size(); ++i)
            results.add(relay_item(db, items->getObject(static_cast<unsigned>(i)), i));
        Poco::JSON::Object out;
        out.set("results", results);
        const ApiAnswer answer = json_answer(200, out);
        send(response, HTTPResponse::HTTP_OK, "application/json", answer.json);
    }

    Poco::JSON::Object relay_item(sql::Database& db, const Poco::JSON::Object::Ptr& item,
                                  std::size_t index) {
        Poco::JSON::Object result;
        try {
            if (!item)
                throw Error(ErrorCode::InvalidInput,
                            "field \"items[" + std::to_string(index) + "]\": must be an object");
            json::FieldReader in(item, "request body", "items[" + std::to_string(index) + "].");
            in.allow_only({"client", "kind", "body"});
            const std::string uid = in.string("client", true, 64);
            const std::string kind = in.string("kind", true, 16);
            std::ostringstream text;
            in.object("body", true)->stringify(text);
            SqliteClientStore clients(db);
            ClientService service(clients, wall_clock());
            const auto client = clients.find(uid, false);
            if (!client) throw Error(ErrorCode::NotFound, "no client " + uid);
            if (client->state != "active")
                throw Error(ErrorCode::Forbidden, "client " + uid + " is " + client->state);
            // A relayed report is news of the client: it counts as seen (to the minute, as a
            // request of its own would).
            const std::int64_t now = wall_clock()();
            if (!client->last_seen_at || *client->last_seen_at + 60 <= now)
                clients.touch(client->id, now);
            ApiAnswer answer;
            if (kind == "status") {
                SqliteAdvertisementStore store(db);
                AdvertisementService ads(store, wall_clock());
                answer = status_api(ads, *client, text.str());
            } else if (kind == "inventory") {
                // On this request's connection: the relay's items may share its transaction.
                answer =
                    client_self_api(*client, "POST", {uid, "inventory"}, text.str(),
                                    [&](const Inventory& inventory) {
                                        return service.report_inventory(
                                            *client, inventory, memberships_follow(db, client->id));
                                    });
            } else if (kind == "seen") {
                answer = ApiAnswer{200, "{\"seen\": true}\n"};  // touched above
            } else {
                throw Error(ErrorCode::InvalidInput, "field \"items[" + std::to_string(index) +
                                                         "].kind\": status, inventory or seen");
            }
            result.set("status", answer.status);
            result.set("answer", json::parse_object(answer.json, "answer", 1000));
        } catch (const Error& e) {
            const int status = static_cast<int>(http_status_for(e.code()));
            if (status >= 500) throw;  // the whole relay fails; the DP sends it again
            result.set("status", status);
            result.set("message", std::string(e.what()));
        }
        return result;
    }

    void releases(HTTPServerRequest& request, HTTPServerResponse& response,
                  const std::vector<std::string>& parts) {
        json_resource(
            request, response,
            [&](sql::Database& db, const Principal& caller, const std::string& body) {
                if (parts.size() == 2 && parts[1] == "backout" && request.getMethod() == "POST") {
                    SqliteBackoutStore store(db);
                    SqliteRolloutStore rollout_store(db);
                    BackoutService backouts(store, rollout_store, wall_clock());
                    RolloutService rollouts(rollout_store, wall_clock());
                    return backout_api(backouts, rollouts, caller, parts[0], body);
                }
                // A release's results: shown by its report, kept when it closes.
                SqliteAdvertisementStore ad_store(db);
                SqliteRolloutStore rollout_store(db);
                ReleaseReporter reporter(ad_store, rollout_store);
                SqliteReleaseStore store(db);
                ReleaseService service(store, wall_clock(), [&](const std::string& reference) {
                    const Release release = service.show(caller, reference);
                    return release_report_json(reporter.report(caller, reference, release.state));
                });
                if (parts.size() == 2 && parts[1] == "report" && request.getMethod() == "GET") {
                    const Release release = service.show(caller, parts[0]);
                    return ApiAnswer{200, release_report_json(reporter.report(
                                              caller, release.reference, release.state)) +
                                              "\n"};
                }
                return releases_api(service, caller, request.getMethod(), parts, body);
            });
    }

    void users(HTTPServerRequest& request, HTTPServerResponse& response,
               const std::vector<std::string>& parts) {
        json_resource(request, response,
                      [&](sql::Database& db, const Principal& caller, const std::string& body) {
                          SqliteUserStore store(db);
                          UserService service(store, wall_clock());
                          return users_api(service, caller, request.getMethod(), parts, body);
                      });
    }

    void record(const std::string& route, HTTPServerResponse& response,
                std::chrono::steady_clock::time_point start) {
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        metrics_.record_request(route, static_cast<int>(response.getStatus()), seconds);
    }

    const SiteConfig& config_;
    Metrics& metrics_;
    ConnectionPool& pool_;
    InventoryWriter& inventory_writer_;
    LastContactWriter& contacts_;
    SoftwareIds& software_ids_;
};

class RouteFactory : public FrontRouteFactory {
  public:
    explicit RouteFactory(const SiteParts& site) : site_(site) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
        return new RouteHandler(site_);
    }

  private:
    SiteParts site_;
};

}  // namespace

SiteServer::SiteServer(SiteConfig config)
    : config_(std::move(config)),
      worker_(config_),
      pool_(config_.database_path(), kMaxThreads, false) {
    {
        // A site made by an older ferryd gains the newer tables before anything is served.
        sql::OpenOptions options;
        options.create = false;
        sql::Database(config_.database_path(), options).migrate(site_migrations());
    }
    Poco::Net::ServerSocket socket = make_listen_socket(config_);
    if (config_.console_dir.empty()) config_.console_dir = default_console_dir();
    front_ = std::make_unique<HttpFront>(
        socket,
        Poco::SharedPtr<FrontRouteFactory>(new RouteFactory(
            SiteParts{config_, metrics_, pool_, inventory_writer_, contacts_, software_ids_})),
        http_server_params(kMaxThreads),
        idle_poll_answers(config_.database_path(), metrics_, contacts_));
    metrics_.count_connections_with([front = front_.get()] {
        return Metrics::Connections{static_cast<std::int64_t>(front->held_connections()),
                                    front->handed_connections()};
    });
}

SiteServer::~SiteServer() {
    if (front_) front_->stop();
}

void SiteServer::start() {
    worker_.start();
    checkpointer_.start();
    contacts_.start();
    front_->start();
}

void SiteServer::stop() {
    front_->stop();
    contacts_.stop();
    worker_.stop();
    checkpointer_.stop();
}

std::uint16_t SiteServer::port() const { return front_->port(); }

}  // namespace ferry::server
