// Reading a client's inventory report (POST /api/v1/clients/UID/inventory) from its JSON text.
//
// A site takes one of these from every client, each ~16 facts and 150-300 packages, so it is
// read in one pass over the text, straight into an Inventory: no Poco::Dynamic::Var tree, whose
// nodes and copies cost more than the rest of the request's parsing put together.
//
// The text is read by read_plain_json (plain_json.h) when it takes it, by Poco's parser
// otherwise, with the same result. It says exactly what json::parse_object +
// json::FieldReader said of the same text: the same refusals (invalid JSON, duplicate keys, the value budget, the top level) and, for a document
// that parses, the same first error in the same order (unknown fields in key order, then
// full, seq, base, facts in key order, software in order, removed_facts, removed_software,
// then the full-report rule). Every error is Error(InvalidInput), or Error(LimitExceeded) for
// too many facts or packages, and names the field.
#pragma once

#include <string>

#include "client.h"

namespace ferry::server {

Inventory inventory_from_json(const std::string& body);

}  // namespace ferry::server
