// The socket ferryd serves on: plain HTTP on loopback only, HTTPS (Poco NetSSL) when a
// certificate and key are configured. Kept apart from routing so that transport security has
// one home.
#pragma once

#include <Poco/Net/ServerSocket.h>

#include "site_config.h"

namespace ferry::server {

// Binds and listens on the configured address (port 0: any free port). Error(InvalidInput) for
// plain HTTP on a non-loopback address or a bad TLS setting, Error(Io) when it cannot bind.
Poco::Net::ServerSocket make_listen_socket(const SiteConfig& config);

}  // namespace ferry::server
