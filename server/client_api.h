// Clients and enrolment secrets over HTTP (docs/api.md):
//   POST /api/v1/clients/enroll {secret, hostname}      no token: the secret is the credential
//   GET  /api/v1/clients[?after=ID&limit=N]             any role
//   GET  /api/v1/clients/UID                            any role: hardware and software
//   POST /api/v1/clients/UID/approve | /revoke          admin
//   POST /api/v1/clients/UID/inventory {full, seq, base?, facts, software, removed_*}   the client
//   GET  /api/v1/secrets                                admin
//   POST /api/v1/secrets {name, requires_approval?, uses?, valid_for?}   admin; secret shown once
//   POST /api/v1/secrets/NAME/revoke                    admin
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api_answer.h"
#include "client.h"

namespace ferry::server {

// Bodies up to this size are accepted for inventory reports (a workstation's package list).
constexpr std::size_t kMaxInventoryBody = 8 << 20;

ApiAnswer enrol_api(ClientService& clients, const std::string& body,
                    const std::string& site_public_key);
ApiAnswer clients_api(ClientService& clients, const Principal& caller, const std::string& method,
                      const std::vector<std::string>& parts,
                      const std::vector<std::pair<std::string, std::string>>& query);
// Routes a client calls with its own token. `report` applies a parsed inventory report
// (ClientService::report_inventory, with the client's collection memberships moving in the same
// transaction) and says whether it changed anything; the body is parsed before it is called,
// so the write lock is held only for the writes.
ApiAnswer client_self_api(const Client& caller, const std::string& method,
                          const std::vector<std::string>& parts, const std::string& body,
                          const std::function<bool(const Inventory&)>& report);
ApiAnswer secrets_api(ClientService& clients, const Principal& caller, const std::string& method,
                      const std::vector<std::string>& parts, const std::string& body);

// Parses an inventory report; Error(InvalidInput) naming the field.
Inventory parse_inventory(const std::string& body);

}  // namespace ferry::server
