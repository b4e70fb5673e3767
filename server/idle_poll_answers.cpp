#include "idle_poll_answers.h"

#include <chrono>
#include <ctime>

#include "console_files.h"
#include "fault_log.h"
#include "ferry/token.h"

namespace ferry::server {

namespace {

constexpr std::string_view kPrefix = "/api/v1/clients/";
constexpr std::string_view kSuffix = "/policy";
constexpr std::string_view kBearer = "Bearer ";
const std::string kRoute = "/api/v1/clients/{id}/policy";

}  // namespace

std::string_view policy_poll_uid(const RequestHead& head) {
    if (head.method != "GET" && head.method != "HEAD") return {};
    const std::string_view target = head.target;
    if (target.size() <= kPrefix.size() + kSuffix.size()) return {};
    if (target.substr(0, kPrefix.size()) != kPrefix) return {};
    if (target.substr(target.size() - kSuffix.size()) != kSuffix) return {};
    const std::string_view uid =
        target.substr(kPrefix.size(), target.size() - kPrefix.size() - kSuffix.size());
    if (uid.find_first_of("/?%") != std::string_view::npos) return {};
    return uid;
}

std::string bearer_token(const RequestHead& head) {
    const std::string_view authorization = head.header("Authorization");
    if (authorization.substr(0, kBearer.size()) != kBearer) return {};
    std::string token(authorization.substr(kBearer.size()));
    return is_well_formed_token(token) ? token : std::string();
}

sql::Database open_for_loop(const std::string& path) {
    sql::OpenOptions options;
    options.create = false;
    // A loop must not wait: reads in WAL mode do not wait for writers, and should one ever be
    // told "busy", the request goes to the handler instead.
    options.busy_timeout_ms = 0;
    return sql::Database(path, options);
}

IdlePollAnswers::IdlePollAnswers(const std::string& database_path, Metrics& metrics,
                                 LastContactWriter& contacts)
    : db_(open_for_loop(database_path)), metrics_(metrics), contacts_(contacts) {}

bool IdlePollAnswers::answer(const RequestHead& head, std::string& response) {
    const auto start = std::chrono::steady_clock::now();
    bool unchanged = false;
    try {
        unchanged = is_unchanged(head);
    } catch (const std::exception& e) {
        // The handler meets the same fault and reports it to the client; note it here too.
        log_fault("warning", "idle poll left to the handler", e.what());
        return false;
    }
    if (!unchanged) return false;
    // The handler's 304, header for header (server/site_server.cpp serve_policy).
    append_response_start(response, "304 Not Modified", head.keep_alive);
    response.append("Content-Security-Policy: ").append(kApiContentSecurityPolicy);
    response.append(
        "\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nETag: ");
    response.append(head.header("If-None-Match"));
    response.append("\r\nCache-Control: no-cache\r\nContent-Length: 0\r\n\r\n");
    metrics_.record_request(
        kRoute, 304,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return true;
}

bool IdlePollAnswers::is_unchanged(const RequestHead& head) {
    const std::string_view uid = policy_poll_uid(head);
    const std::string_view etag = head.header("If-None-Match");
    if (uid.empty() || etag.empty()) return false;
    const std::string token = bearer_token(head);
    if (token.rfind("client_", 0) != 0) return false;
    const auto row = db_.cached(
        "SELECT c.uid, c.state, c.last_seen_at, p.etag, c.id FROM client c "
        "LEFT JOIN client_policy p ON p.client_id = c.id WHERE c.token_digest = ?");
    row->bind(1, token_digest(token));
    if (!row->step()) return false;
    if (row->column_text(0) != uid || row->column_text(1) != "active") return false;
    if (row->column_is_null(3) || row->column_text(3) != etag) return false;
    // Last contact is kept to the minute, as ClientService::authenticate keeps it; the writer
    // records it within a second.
    const std::int64_t now = std::time(nullptr);
    if (row->column_is_null(2) || row->column_int64(2) + 60 <= now)
        contacts_.note(row->column_int64(4), now);
    return true;
}

FastAnswersMaker idle_poll_answers(std::string database_path, Metrics& metrics,
                                   LastContactWriter& contacts) {
    return [path = std::move(database_path), &metrics, &contacts] {
        return std::make_unique<IdlePollAnswers>(path, metrics, contacts);
    };
}

}  // namespace ferry::server
