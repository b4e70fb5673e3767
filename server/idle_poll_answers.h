// IdlePollAnswers: the site's answer to an idle policy poll, given on HttpFront's loop.
//
// Every agent asks for its policy every minute, and nearly always the answer is "304, nothing
// changed". This answers exactly those requests without Poco or the connection pool: one
// prepared query (token digest → the client's uid, state, last contact and policy ETag) on the
// loop's own read connection. It answers only when the request handler would give the same
// answer: a GET or HEAD of /api/v1/clients/{id}/policy with a well-formed client token of that
// very client, the client active, and If-None-Match equal to its policy's ETag. The one write
// the handler would make, the client's last contact once a minute, goes to LastContactWriter.
// Anything else — a 200, a 401, a 403 — goes to the handler, which stays the one place that
// decides.
#pragma once

#include <memory>
#include <string>

#include "ferry/sqlite.h"
#include "http_front.h"
#include "last_contact_writer.h"
#include "metrics.h"

namespace ferry::server {

class IdlePollAnswers : public FastAnswers {
  public:
    IdlePollAnswers(const std::string& database_path, Metrics& metrics,
                    LastContactWriter& contacts);
    bool answer(const RequestHead& head, std::string& response) override;

  private:
    bool is_unchanged(const RequestHead& head);
    sql::Database db_;
    Metrics& metrics_;
    LastContactWriter& contacts_;
};

// What the site's and a DP's idle-poll answers share. The client uid of a GET or HEAD of
// exactly /api/v1/clients/{uid}/policy (no query string), else empty.
std::string_view policy_poll_uid(const RequestHead& head);
// The token of "Authorization: Bearer TOKEN" when it is well formed, else empty.
std::string bearer_token(const RequestHead& head);
// A loop's read connection: never waits on a lock (a busy answer sends the request to Poco).
sql::Database open_for_loop(const std::string& path);

// What SiteServer gives HttpFront: one IdlePollAnswers per loop.
FastAnswersMaker idle_poll_answers(std::string database_path, Metrics& metrics,
                                   LastContactWriter& contacts);

}  // namespace ferry::server
