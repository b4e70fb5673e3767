// The socket ferryd serves on: plain HTTP on loopback only, HTTPS (Poco NetSSL) when a
// certificate and key are configured. Kept apart from routing so that transport security has
// one home.
#pragma once

#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>

#include <cstddef>

#include "site_config.h"

namespace ferry::server {

// Binds and listens on the configured address (port 0: any free port).
//
// With tls_certificate and tls_key set, the socket is a Poco::Net::SecureServerSocket (TLS 1.2
// or later, forward-secret AEAD ciphers, no client certificates) on any address; returned by
// value it keeps its TLS implementation, so Poco::Net::HTTPServer serves HTTPS on it. Without
// them it is plain HTTP, refused on anything but loopback.
//
// Error(InvalidInput) for plain HTTP on a non-loopback address, a listen host that is not an IP
// address, or a certificate or key that OpenSSL cannot use (naming the file); Error(NotFound) or
// Error(Io) naming the file when it is missing or unreadable; Error(Io) when it cannot bind.
Poco::Net::ServerSocket make_listen_socket(const SiteConfig& config);

// How ferryd's HTTP server (site or DP) takes connections: `threads` at once, keep-alive, and a
// connection that sends nothing for 10 s (a request line, headers, body bytes, or the next
// request on a kept-alive connection) is dropped, so that idle or trickling connections hold a
// thread for seconds, not Poco's default minute; up to 1024 accepted connections wait for a
// thread instead of 64 (past that Poco closes new ones unanswered).
Poco::Net::HTTPServerParams::Ptr http_server_params(std::size_t threads);

// Stops accepting, then waits until no request handler runs any more — up to 2 s for requests
// in flight to end (a kept-alive connection ends after its current request), then aborting the
// rest and up to 5 s more: what the handlers use (the connection pool, the services) is
// destroyed right after, and a shutdown must not take long.
void stop_http_server(Poco::Net::HTTPServer& server);

// "https" when the configuration serves TLS, "http" otherwise.
const char* listen_scheme(const SiteConfig& config);

}  // namespace ferry::server
