// Internal: the client side of TLS, one set of trust rules for every program that talks to ferryd
// or a distribution point (ApiClient, the object downloader).
//
// TLS 1.2 or later; the server's certificate is always verified, chain and host name (an IP
// address against the certificate's IP SANs, a host name against its DNS names): against the
// system's CA store, or, when FERRY_CA_FILE names a PEM file, against the certificates in that
// file only. A certificate that does not verify is never accepted.
#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/SSLException.h>

#include <string>

#include "ferry/error.h"

namespace ferry {

struct ClientTls {
    Poco::Net::Context::Ptr context;
    std::string ca_file;  // FERRY_CA_FILE, or empty for the system's CA store
};

// A client context that accepts only a certificate valid for `host`. Reads FERRY_CA_FILE:
// Error(NotFound/Io/InvalidInput) naming FERRY_CA_FILE when that file cannot be used.
ClientTls make_client_tls(const std::string& host);

// Call before each connection: forgets why OpenSSL refused the last certificate on this thread.
void clear_certificate_error();

// The ferry::Error for an SSLException met while talking to `peer` (e.g. "ferryd at
// https://host:443"): VerificationFailed when the certificate was refused, with OpenSSL's reason
// and the trust store it was checked against; Io for any other handshake failure.
Error tls_error(const Poco::Net::SSLException& e, const ClientTls& tls, const std::string& peer);

}  // namespace ferry
