// The site database's schema, as numbered migrations (applied by sql::Database::migrate).
// Append only: a released migration is never edited, a change is a new step.
#pragma once

#include <vector>

#include "ferry/sqlite.h"

namespace ferry::server {

const std::vector<sql::Migration>& site_migrations();

}  // namespace ferry::server
