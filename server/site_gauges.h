// Reads the gauges /metrics reports (objects, clients, policies) from the site database.
#pragma once

#include "ferry/sqlite.h"
#include "metrics.h"

namespace ferry::server {

SiteGauges read_site_gauges(sql::Database& db);

}  // namespace ferry::server
