// The site database's schema, as numbered migrations (applied by sql::Database::migrate).
// Append only: a released migration is never edited, a change is a new step.
#pragma once

#include <cstdint>
#include <vector>

#include "ferry/sqlite.h"

namespace ferry::server {

const std::vector<sql::Migration>& site_migrations();

// The ids of the software table ("inventory software by number"): each package name has a
// block of this many ids, starting at its number times this, and its versions take the ids of
// its block in turn. The entries of one name are then one range of a client's primary key
// (client_id, software_id), which a collection query probes once per client.
constexpr std::int64_t kSoftwareIdsPerName = std::int64_t{1} << 20;

}  // namespace ferry::server
