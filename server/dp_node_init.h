// `ferryd init --role dp`: a distribution point's data directory, registered with its parent.
#pragma once

#include <string>

namespace ferry::server {

// Creates DIR (objects, dp.db, keys/parent.token 0600, ferryd.ini) after checking with the
// parent that `token` is a distribution point's token there (Error(Unauthenticated) naming
// the parent otherwise; Error(Io) when the parent cannot be reached). Returns the config path.
std::string init_dp(const std::string& dir, const std::string& listen, const std::string& parent,
                    const std::string& token, int sync_interval_s = 5);

}  // namespace ferry::server
