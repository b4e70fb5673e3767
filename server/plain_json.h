// read_plain_json: a quick reader for the plain JSON that agents send, for the texts a site reads
// most (inventory reports: 150-300 packages each, thousands a minute).
//
// Poco's parser tokenizes through a general C library, building a std::string for every token
// and every number before converting it: for an inventory report it took a fifth of ferryd's
// CPU. This reader makes one pass over the text and calls `handler` with exactly the events
// Poco's parser would (startObject, key, value, … in the same order, numbers as the same int64
// or double), but only for what it is sure of: standard JSON with
//   - strings of valid UTF-8 without control characters, and only the two-character escapes
//     (\" \\ \/ \b \f \n \r \t; no \u),
//   - integers of at most 18 digits and reals that fit a double,
//   - nesting at most 64 deep.
// On anything else — any syntax error included — it stops and returns false, having promised
// nothing: the caller discards what the handler was told and reads the text again with Poco's
// parser, which then accepts it or says what is wrong, in its own words. An exception thrown by
// the handler passes through.
#pragma once

#include <Poco/JSON/Handler.h>

#include <string_view>

namespace ferry::server {

bool read_plain_json(std::string_view text, Poco::JSON::Handler& handler);

}  // namespace ferry::server
