// What every ferryctl command shares: JSON bodies, printing answers, and path segments.
#pragma once

#include <Poco/JSON/Object.h>

#include <string>
#include <vector>

#include "ferry/api_client.h"
#include "ferry/command_line.h"

namespace ferry::ctl {

// Indented JSON with a final newline (--json output).
std::string json_text(const Poco::JSON::Object::Ptr& object);
std::string body_of(const Poco::JSON::Object& object);
// A path segment with '/', '?', '#', '%' and '@' percent-encoded.
std::string segment(const std::string& text);
std::vector<std::string> split_commas(const std::string& text);
// The string value of `field`, or "" when absent or not a string.
std::string text_of(const Poco::JSON::Object::Ptr& object, const std::string& field);
// "2026-11-26 16:00:00 UTC" from unix seconds given as text or number ("" stays "").
std::string utc_time(const std::string& unix_seconds);
// Prints rows as a table with a header; columns padded to the widest cell.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

// [####xx++....]: of `members`, succeeded #, failed x, in progress +, not reported yet .
std::string progress_bar(std::int64_t members, std::int64_t succeeded, std::int64_t failed,
                         std::int64_t in_progress, int width = 30);

int release_command(const ApiClient& api, int argc, char** argv, int first);
int client_command(const ApiClient& api, int argc, char** argv, int first);
int secret_command(const ApiClient& api, int argc, char** argv, int first);
int collection_command(const ApiClient& api, int argc, char** argv, int first);
// The options of `advertise` (also taken by `rollout create`) and the request they make.
std::vector<OptionSpec> advertisement_options();
Poco::JSON::Object advertisement_request(const CommandLine& args);
// --waves W,… --success PCT --error PCT --sign-off (rollout create, release backout): the
// options, and the request fields they set (only those given).
std::vector<OptionSpec> rollout_plan_options();
void set_rollout_plan(Poco::JSON::Object& request, const CommandLine& args);
int rollout_command(const ApiClient& api, int argc, char** argv, int first);
int advertise_command(const ApiClient& api, int argc, char** argv, int first);
int advertisement_command(const ApiClient& api, int argc, char** argv, int first);
int dp_command(const ApiClient& api, int argc, char** argv, int first);
int changelog_command(const ApiClient& api, int argc, char** argv, int first);

}  // namespace ferry::ctl
