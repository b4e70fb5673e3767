#include "listen_socket.h"

#include <Poco/Net/IPAddress.h>

#include "ferry/error.h"

namespace ferry::server {

Poco::Net::ServerSocket make_listen_socket(const SiteConfig& config) {
    if (!config.tls_certificate.empty()) {
        throw Error(ErrorCode::InvalidInput,
                    "TLS is configured, but this build of ferryd does not serve HTTPS yet; remove "
                    "tls_certificate and tls_key and listen on a loopback address");
    }
    Poco::Net::IPAddress host;
    if (!Poco::Net::IPAddress::tryParse(config.listen_host, host)) {
        throw Error(ErrorCode::InvalidInput,
                    "listen address \"" + config.listen_host + "\" is not an IP address");
    }
    if (!host.isLoopback()) {
        throw Error(ErrorCode::InvalidInput, "plain HTTP is served only on loopback; " +
                                                 config.listen_host +
                                                 " needs tls_certificate and tls_key");
    }
    Poco::Net::ServerSocket socket;
    try {
        socket.bind(Poco::Net::SocketAddress(host, config.listen_port), true);
        socket.listen(128);
    } catch (const Poco::Exception& e) {
        throw Error(ErrorCode::Io, "cannot listen on " + config.listen_host + ":" +
                                       std::to_string(config.listen_port) + ": " + e.displayText());
    }
    return socket;
}

}  // namespace ferry::server
