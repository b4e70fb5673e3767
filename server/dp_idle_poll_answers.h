// DpIdlePollAnswers: a distribution point's answer to an idle policy poll, given on HttpFront's
// loop — the DP's counterpart of IdlePollAnswers (see there). It answers only a GET or HEAD of
// /api/v1/clients/{id}/policy with the token of that very client (active, as the DP learnt it
// from the feed) and If-None-Match equal to the ETag of the policy the DP holds: the 304 the
// handler would give. The client is noted in ClientSightings, as the handler notes it, so the
// site still learns that it was seen. Everything else goes to the handler.
#pragma once

#include <string>

#include "client_sightings.h"
#include "ferry/sqlite.h"
#include "http_front.h"

namespace ferry::server {

class DpIdlePollAnswers : public FastAnswers {
  public:
    DpIdlePollAnswers(const std::string& database_path, ClientSightings& sightings);
    bool answer(const RequestHead& head, std::string& response) override;

  private:
    bool is_unchanged(const RequestHead& head, std::string_view uid);
    sql::Database db_;
    ClientSightings& sightings_;
};

FastAnswersMaker dp_idle_poll_answers(std::string database_path, ClientSightings& sightings);

}  // namespace ferry::server
