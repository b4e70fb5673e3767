#include "dp_node_server.h"

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/URI.h>

#include <ctime>
#include <filesystem>
#include <sstream>

#include "advertisement_api.h"
#include "client_api.h"
#include "dp_idle_poll_answers.h"
#include "dp_node_state.h"
#include "fault_log.h"
#include "ferry/api_client.h"
#include "ferry/atomic_file.h"
#include "ferry/encoding.h"
#include "ferry/error.h"
#include "ferry/json.h"
#include "ferry/object_download.h"
#include "ferry/object_store.h"
#include "ferry/throttle.h"
#include "ferry/token.h"
#include "http_exchange.h"
#include "http_front.h"
#include "listen_socket.h"
#include "object_api.h"

namespace ferry::server {
namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

std::string json_text(const Poco::JSON::Object& object) {
    std::ostringstream out;
    object.stringify(out);
    out << "\n";
    return out.str();
}

double rate_or_unlimited(const std::string& text) {
    return text.empty() ? kUnlimited : parse_rate(text);
}

class DpRouteHandler : public Poco::Net::HTTPRequestHandler {
  public:
    DpRouteHandler(const SiteConfig& config, ConnectionPool& pool, TokenBucket& shared,
                   ClientSightings& sightings)
        : config_(config), pool_(pool), shared_(shared), sightings_(sightings) {}

    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
        try {
            route(request, response);
        } catch (const Error& e) {
            send_error(response, e);
        } catch (const std::exception& e) {
            log_fault("error", "request failed", e.what(),
                      {{"role", "dp"}, {"path", request.getURI().substr(0, 200)}});
            send_error_answer(response, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal",
                              "internal error");
        }
    }

  private:
    void route(HTTPServerRequest& request, HTTPServerResponse& response) {
        const std::string path = Poco::URI(request.getURI()).getPath();
        const std::string& method = request.getMethod();
        if (path == "/healthz") {
            Poco::JSON::Object body;
            body.set("status", "ok");
            body.set("role", "dp");
            return send_body(response, HTTPResponse::HTTP_OK, "application/json", json_text(body));
        }
        if (request.get("Authorization", "").rfind("Bearer dp_", 0) == 0)
            return serve_child_dp(request, response, path);
        auto lease = pool_.acquire();
        DpNodeState state(*lease);
        const std::string client = authenticate(state, request);
        sightings_.saw(client, static_cast<std::int64_t>(std::time(nullptr)));
        const std::string objects_prefix = "/api/v1/objects/";
        const std::string clients_prefix = "/api/v1/clients/";
        if (path.rfind(objects_prefix, 0) == 0 && (method == "GET" || method == "HEAD")) {
            const ObjectStore store(config_.data_dir);
            // Each connection gets its own bucket, and all of them draw from the shared one,
            // which serves them in turn (its lock), so the aggregate is shared fairly.
            TokenBucket own(rate_or_unlimited(config_.serve_connection_limit), 64 * 1024);
            ObjectApiLimits limits;
            limits.plain_socket = config_.tls_certificate.empty();
            if (!config_.serve_limit.empty() || !config_.serve_connection_limit.empty())
                limits.pace = [&](std::size_t bytes) {
                    own.acquire(bytes);
                    shared_.acquire(bytes);
                };
            objects_api(store, Principal{client, Role::Client}, path.substr(objects_prefix.size()),
                        request, response, limits);
            return;
        }
        if (path == "/api/v1/status" && method == "POST")
            return accept_report(state, client, "status",
                                 read_request_body(request, kMaxStatusBody), response);
        if (path.rfind(clients_prefix, 0) == 0) {
            const std::string rest = path.substr(clients_prefix.size());
            const auto slash = rest.find('/');
            const std::string id = rest.substr(0, slash);
            const std::string what = slash == std::string::npos ? "" : rest.substr(slash + 1);
            if (id != client)
                throw Error(ErrorCode::Forbidden, "client " + client + " may act only as itself");
            if (what == "policy" && (method == "GET" || method == "HEAD"))
                return serve_policy(state, client, request, response);
            if (what == "inventory" && method == "POST")
                return accept_inventory(state, client,
                                        read_request_body(request, kMaxInventoryBody), response);
        }
        throw Error(ErrorCode::NotFound,
                    "no such route on a distribution point: " + method + " " + path.substr(0, 200));
    }

    // A distribution point one tier down (its parent is this DP). What it reads of the site
    // — the feed, its clients' policies — and what it sends — heartbeats, relays — go upstream
    // with its own token, so the site authenticates and authorises it; objects are served from
    // this DP's store, fetched into it first when missing, so the link above carries each
    // byte once for every DP below.
    void serve_child_dp(HTTPServerRequest& request, HTTPServerResponse& response,
                        const std::string& path) {
        const std::string token = request.get("Authorization").substr(7);
        const ApiClient upstream(config_.parent, token);
        const std::string& method = request.getMethod();
        const std::string objects_prefix = "/api/v1/objects/";
        if (path.rfind(objects_prefix, 0) == 0 && (method == "GET" || method == "HEAD")) {
            const std::string id = path.substr(objects_prefix.size());
            const ObjectStore store(config_.data_dir);
            if (!is_object_id(id))
                throw Error(ErrorCode::InvalidInput, "an object id is 64 lowercase hex digits");
            const auto head = upstream.head_raw(path);  // also authenticates the child DP
            if (head.status != 200)
                throw Error(head.status == 401   ? ErrorCode::Unauthenticated
                            : head.status == 403 ? ErrorCode::Forbidden
                                                 : ErrorCode::NotFound,
                            "object " + id + " upstream: HTTP " + std::to_string(head.status));
            if (!store.exists(id)) fetch_into_store(store, id, head.content_length);
            objects_api(store, Principal{"dp-child", Role::DistributionPoint}, id, request,
                        response);
            return;
        }
        const std::string uri = request.getURI();
        ApiClient::RawAnswer answer;
        if (method == "GET" && (path == "/api/v1/feed" || path.rfind("/api/v1/clients/", 0) == 0))
            answer = upstream.get_raw(uri, request.get("If-None-Match", ""));
        else if (method == "POST" &&
                 (path == "/api/v1/dps/register" || path == "/api/v1/dps/relay"))
            answer = upstream.post_raw(uri, read_request_body(request, 16 << 20));
        else
            throw Error(ErrorCode::NotFound, "no such route for a distribution point: " + method +
                                                 " " + path.substr(0, 200));
        if (!answer.etag.empty()) response.set("ETag", answer.etag);
        if (answer.status == 304) {
            response.setStatusAndReason(HTTPResponse::HTTP_NOT_MODIFIED);
            response.setContentLength(0);
            response.send();
            return;
        }
        send_body(response, static_cast<HTTPResponse::HTTPStatus>(answer.status),
                  "application/json", answer.body);
    }

    void fetch_into_store(const ObjectStore& store, const std::string& id, std::int64_t size) {
        if (size < 0) throw Error(ErrorCode::Io, "object " + id + ": the parent gave no size");
        const std::string incoming = config_.data_dir + "/incoming";
        std::filesystem::create_directories(incoming);
        const std::string token = read_small_file(config_.parent_token_path(), 4096).substr(0, 200);
        std::string own = token;
        while (!own.empty() && (own.back() == '\n' || own.back() == ' ')) own.pop_back();
        download_object({config_.parent, own}, id, static_cast<std::uint64_t>(size), incoming);
        store.put_file(incoming + "/" + id, id);
        std::filesystem::remove(incoming + "/" + id);
    }

    // The client behind "Bearer client_…", if the feed has introduced it as active.
    static std::string authenticate(DpNodeState& state, HTTPServerRequest& request) {
        const std::string header = request.get("Authorization", "");
        const std::string prefix = "Bearer ";
        if (header.rfind(prefix, 0) == 0) {
            const std::string token = header.substr(prefix.size());
            if (is_well_formed_token(token))
                if (auto client = state.client_by_digest(token_digest(token))) return *client;
        }
        throw Error(ErrorCode::Unauthenticated,
                    "a client token this distribution point knows is needed");
    }

    void serve_policy(DpNodeState& state, const std::string& client, HTTPServerRequest& request,
                      HTTPServerResponse& response) {
        const auto policy = state.policy(client);
        if (!policy) {
            response.set("Retry-After", "5");
            return send_error_answer(
                response, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "not-ready",
                "the policy of " + client + " has not reached this distribution point yet");
        }
        response.set("ETag", policy->etag);
        response.set("Cache-Control", "no-cache");
        if (request.get("If-None-Match", "") == policy->etag) {
            response.setStatusAndReason(HTTPResponse::HTTP_NOT_MODIFIED);
            response.setContentLength(0);
            response.send();
            return;
        }
        response.setStatusAndReason(HTTPResponse::HTTP_OK);
        response.setContentType("application/json");
        response.setContentLength(static_cast<std::streamsize>(policy->envelope.size()));
        if (request.getMethod() == "HEAD") {
            response.send();
            return;
        }
        response.send() << policy->envelope;
    }

    // Status batches are kept as sent and forwarded; the site de-duplicates by the agent's seq.
    void accept_report(DpNodeState& state, const std::string& client, const std::string& kind,
                       const std::string& body, HTTPServerResponse& response) {
        const auto parsed = json::parse_object(body, kind + " report", 2'000'000);
        state.queue_report(client, kind, body, static_cast<std::int64_t>(std::time(nullptr)));
        Poco::JSON::Object answer;
        const auto messages = parsed->getArray("messages");
        answer.set("accepted", messages ? static_cast<int>(messages->size()) : 0);
        answer.set("queued", true);
        send_body(response, HTTPResponse::HTTP_OK, "application/json", json_text(answer));
    }

    void accept_inventory(DpNodeState& state, const std::string& client, const std::string& body,
                          HTTPServerResponse& response) {
        const auto parsed = json::parse_object(body, "inventory report", 2'000'000);
        const bool full = parsed->optValue<bool>("full", false);
        if (!full && state.needs_full_inventory(client))
            throw Error(ErrorCode::Conflict,
                        "the site lost the base of this inventory change; send a full inventory");
        if (full) state.set_needs_full_inventory(client, false);
        state.queue_report(client, "inventory", body,
                           static_cast<std::int64_t>(std::time(nullptr)));
        Poco::JSON::Object answer;
        answer.set("accepted", true);
        answer.set("queued", true);
        send_body(response, HTTPResponse::HTTP_OK, "application/json", json_text(answer));
    }

    const SiteConfig& config_;
    ConnectionPool& pool_;
    TokenBucket& shared_;
    ClientSightings& sightings_;
};

class DpRouteFactory : public FrontRouteFactory {
  public:
    DpRouteFactory(const SiteConfig& config, ConnectionPool& pool, TokenBucket& shared,
                   ClientSightings& sightings)
        : config_(config), pool_(pool), shared_(shared), sightings_(sightings) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
        return new DpRouteHandler(config_, pool_, shared_, sightings_);
    }

  private:
    const SiteConfig& config_;
    ConnectionPool& pool_;
    TokenBucket& shared_;
    ClientSightings& sightings_;
};

}  // namespace

DpNodeServer::DpNodeServer(SiteConfig config)
    : config_(std::move(config)), pool_(config_.dp_database_path(), kMaxThreads) {
    DpNodeState migrate(config_.dp_database_path());  // the schema before any request
    serving_.set_rate(rate_or_unlimited(config_.serve_limit));
    Poco::Net::ServerSocket socket = make_listen_socket(config_);
    front_ =
        std::make_unique<HttpFront>(socket,
                                    Poco::SharedPtr<FrontRouteFactory>(
                                        new DpRouteFactory(config_, pool_, serving_, sightings_)),
                                    http_server_params(kMaxThreads),
                                    dp_idle_poll_answers(config_.dp_database_path(), sightings_));
}

DpNodeServer::~DpNodeServer() { stop(); }

void DpNodeServer::start() {
    front_->start();
    const std::string host = config_.listen_host.find(':') != std::string::npos
                                 ? "[" + config_.listen_host + "]"
                                 : config_.listen_host;
    replicator_ = std::make_unique<DpReplicator>(
        config_, std::string(listen_scheme(config_)) + "://" + host + ":" + std::to_string(port()),
        &sightings_);
    replicator_->start();
}

void DpNodeServer::stop() {
    if (replicator_) replicator_->stop();
    if (front_) front_->stop();
}

std::uint16_t DpNodeServer::port() const { return front_->port(); }

}  // namespace ferry::server
