#include "dp_idle_poll_answers.h"

#include <ctime>

#include "fault_log.h"
#include "ferry/token.h"
#include "idle_poll_answers.h"

namespace ferry::server {

DpIdlePollAnswers::DpIdlePollAnswers(const std::string& database_path, ClientSightings& sightings)
    : db_(open_for_loop(database_path)), sightings_(sightings) {}

bool DpIdlePollAnswers::answer(const RequestHead& head, std::string& response) {
    const std::string_view uid = policy_poll_uid(head);
    if (uid.empty() || head.header("If-None-Match").empty()) return false;
    try {
        if (!is_unchanged(head, uid)) return false;
    } catch (const std::exception& e) {
        log_fault("warning", "idle poll left to the handler", e.what(), {{"role", "dp"}});
        return false;
    }
    sightings_.saw(std::string(uid), static_cast<std::int64_t>(std::time(nullptr)));
    // The handler's 304, header for header (server/dp_node_server.cpp serve_policy).
    append_response_start(response, "304 Not Modified", head.keep_alive);
    response.append("ETag: ").append(head.header("If-None-Match"));
    response.append("\r\nCache-Control: no-cache\r\nContent-Length: 0\r\n\r\n");
    return true;
}

bool DpIdlePollAnswers::is_unchanged(const RequestHead& head, std::string_view uid) {
    const std::string token = bearer_token(head);
    // A DP's own token (dp_…) asks for something else entirely: the handler's.
    if (token.empty() || token.rfind("dp_", 0) == 0) return false;
    const auto row = db_.cached(
        "SELECT c.id, p.etag FROM client c JOIN policy p ON p.client_id = c.id "
        "WHERE c.token_digest = ?1 AND c.state = 'active'");
    row->bind(1, token_digest(token));
    if (!row->step()) return false;
    return row->column_text(0) == uid && row->column_text(1) == head.header("If-None-Match");
}

FastAnswersMaker dp_idle_poll_answers(std::string database_path, ClientSightings& sightings) {
    return [path = std::move(database_path), &sightings] {
        return std::make_unique<DpIdlePollAnswers>(path, sightings);
    };
}

}  // namespace ferry::server
