// `ferryd init --role site`: creates a site's data directory — database with its schema, the
// site signing key (minisign format, 0600), the object store, ferryd.ini — and a bootstrap
// admin whose token is returned to be printed once. Refuses a directory already initialised.
#pragma once

#include <string>

namespace ferry::server {

struct InitResult {
    std::string config_path;
    std::string admin_token;
    std::string site_public_key;  // base64, for pinning by hand if wanted
};

InitResult init_site(const std::string& dir, const std::string& listen);

}  // namespace ferry::server
