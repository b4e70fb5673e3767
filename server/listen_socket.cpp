#include "listen_socket.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SecureServerSocket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "ferry/atomic_file.h"
#include "ferry/error.h"

namespace ferry::server {
namespace {

// TLS 1.2: forward-secret key exchange with AEAD ciphers only (Mozilla's "intermediate" list
// without DHE, which would need DH parameters). TLS 1.3 suites are OpenSSL's defaults, all AEAD.
constexpr const char* kServerCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// PEM certificate chains and keys are small; anything larger is not one.
constexpr std::size_t kMaxPemBytes = 1 << 20;

void initialize_ssl_once() {
    static std::once_flag once;
    std::call_once(once, [] { Poco::Net::initializeSSL(); });
}

// Opens and reads the file ourselves first, so that a missing, unreadable or special file is
// reported by name in our words rather than as an OpenSSL error queue dump.
void require_readable_file(const std::string& path, const std::string& key) {
    try {
        const std::string content = read_small_file(path, kMaxPemBytes);
        if (content.find("-----BEGIN ") == std::string::npos) {
            throw Error(ErrorCode::InvalidInput,
                        path + ": not a PEM file (no \"-----BEGIN\" line)");
        }
    } catch (const Error& e) {
        throw e.with_context("[ferryd] " + key);
    }
}

Poco::Net::Context::Ptr server_context(const SiteConfig& config) {
    require_readable_file(config.tls_certificate, "tls_certificate");
    require_readable_file(config.tls_key, "tls_key");
    initialize_ssl_once();
    Poco::Net::Context::Params params;
    params.certificateFile = config.tls_certificate;
    params.privateKeyFile = config.tls_key;
    params.verificationMode = Poco::Net::Context::VERIFY_NONE;  // no client certificates
    params.loadDefaultCAs = false;
    params.cipherList = kServerCiphers;
    params.dhUse2048Bits = true;
    try {
        Poco::Net::Context::Ptr context =
            new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
        context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
        context->preferServerCiphers();
        // OpenSSL silently drops a key that does not match a certificate loaded after it, and the
        // handshakes would fail later; refuse it now.
        if (SSL_CTX_check_private_key(context->sslContext()) != 1) {
            ERR_clear_error();
            throw Error(ErrorCode::InvalidInput, "[ferryd] tls_key " + config.tls_key +
                                                     " is not the key of tls_certificate " +
                                                     config.tls_certificate);
        }
        return context;
    } catch (const Poco::Exception& e) {
        // Poco's message names the file it could not load and OpenSSL's reason (a key that does
        // not match the certificate, a password-protected key, …).
        throw Error(ErrorCode::InvalidInput, "[ferryd] tls_certificate " + config.tls_certificate +
                                                 ", tls_key " + config.tls_key + ": " +
                                                 e.displayText());
    }
}

}  // namespace

const char* listen_scheme(const SiteConfig& config) {
    return config.tls_certificate.empty() ? "http" : "https";
}

Poco::Net::ServerSocket make_listen_socket(const SiteConfig& config) {
    const bool tls = !config.tls_certificate.empty() || !config.tls_key.empty();
    if (tls && (config.tls_certificate.empty() || config.tls_key.empty())) {
        throw Error(ErrorCode::InvalidInput, "[ferryd] tls_certificate and tls_key go together");
    }
    Poco::Net::IPAddress host;
    if (!Poco::Net::IPAddress::tryParse(config.listen_host, host)) {
        throw Error(ErrorCode::InvalidInput,
                    "listen address \"" + config.listen_host + "\" is not an IP address");
    }
    if (!tls && !host.isLoopback()) {
        throw Error(ErrorCode::InvalidInput, "plain HTTP is served only on loopback; " +
                                                 config.listen_host +
                                                 " needs tls_certificate and tls_key");
    }
    // A SecureServerSocket is a ServerSocket whose implementation accepts TLS connections; the
    // copy returned below shares that implementation, so HTTPServer's connections are TLS.
    Poco::Net::ServerSocket socket =
        tls ? Poco::Net::SecureServerSocket(server_context(config)) : Poco::Net::ServerSocket();
    try {
        socket.bind(Poco::Net::SocketAddress(host, config.listen_port), true);
        // Room for a burst of connections (agents connect anew for every poll) while the loops
        // accept: past the backlog the kernel drops SYNs, and a client retries only after 1 s.
        socket.listen(1024);
    } catch (const Poco::Exception& e) {
        throw Error(ErrorCode::Io, "cannot listen on " + config.listen_host + ":" +
                                       std::to_string(config.listen_port) + ": " + e.displayText());
    }
    return socket;
}

Poco::Net::HTTPServerParams::Ptr http_server_params(std::size_t threads) {
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(static_cast<int>(threads));
    params->setMaxQueued(1024);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(10, 0));
    params->setTimeout(Poco::Timespan(10, 0));
    return params;
}

void stop_http_server(Poco::Net::HTTPServer& server) {
    auto wait_idle = [&](std::chrono::milliseconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (server.currentConnections() > 0 && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return server.currentConnections() == 0;
    };
    server.stopAll(false);
    if (wait_idle(std::chrono::seconds(2))) return;
    server.stopAll(true);  // abort the connections still open
    wait_idle(std::chrono::seconds(5));
}

}  // namespace ferry::server
