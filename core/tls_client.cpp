#include "tls_client.h"

#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetSSL.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <mutex>

#include "ferry/atomic_file.h"

namespace ferry {
namespace {

// Why OpenSSL refused the server's certificate during the handshake running on this thread.
// Handshakes are synchronous, inside one request, so a thread-local is enough.
thread_local std::string t_certificate_error;

// OpenSSL's verification verdict stands; this only records the first reason it gave, with the
// certificate concerned, for the error message. (It replaces Poco's callback, which would
// consult Poco's global certificate handlers, any of which could accept a failed certificate.)
int record_certificate_error(int ok, X509_STORE_CTX* store) {
    if (ok == 0 && t_certificate_error.empty()) {
        t_certificate_error = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
        if (X509* cert = X509_STORE_CTX_get_current_cert(store)) {
            char subject[256] = {};
            X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
            t_certificate_error += std::string(" (certificate ") + subject + ")";
        }
    }
    return ok;
}

// Client-side TLS 1.2: forward secrecy and no anonymous, export, RC4, 3DES or MD5 suites.
constexpr const char* kClientCiphers = "HIGH:!aNULL:!eNULL:!kRSA:!PSK:!SRP:!MD5:!RC4:!3DES";

constexpr std::size_t kMaxCaFileBytes = 4 << 20;

}  // namespace

ClientTls make_client_tls(const std::string& host) {
    static std::once_flag ssl_initialised;
    std::call_once(ssl_initialised, [] { Poco::Net::initializeSSL(); });
    ClientTls tls;
    const char* ca_env = std::getenv("FERRY_CA_FILE");
    tls.ca_file = ca_env != nullptr ? ca_env : "";
    if (!tls.ca_file.empty()) {
        // Read here first so that a missing or unreadable file is named in our words.
        try {
            const std::string pem = read_small_file(tls.ca_file, kMaxCaFileBytes);
            if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
                throw Error(ErrorCode::InvalidInput,
                            tls.ca_file + ": no PEM certificate (\"-----BEGIN CERTIFICATE-----\")");
            }
        } catch (const Error& e) {
            throw e.with_context("FERRY_CA_FILE");
        }
    }
    Poco::Net::Context::Params params;
    params.caLocation = tls.ca_file;
    params.loadDefaultCAs = tls.ca_file.empty();  // a given CA file replaces the system store
    // STRICT: Poco otherwise skips its host name check for "localhost" and 127.0.0.1.
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.verificationDepth = 9;
    params.cipherList = kClientCiphers;
    try {
        tls.context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
        tls.context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
        tls.context->enableExtendedCertificateVerification(true);
    } catch (const Poco::Exception& e) {
        if (!tls.ca_file.empty())
            throw Error(ErrorCode::InvalidInput,
                        "FERRY_CA_FILE " + tls.ca_file + ": " + e.displayText());
        throw Error(ErrorCode::Internal, "cannot set up TLS: " + e.displayText());
    }
    SSL_CTX* ctx = tls.context->sslContext();
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, record_certificate_error);
    // OpenSSL checks the name during the handshake too (Poco checks again after it): an IP
    // address against the certificate's IP SANs, a host name against its DNS names.
    X509_VERIFY_PARAM* verify = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(verify, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    Poco::Net::IPAddress ip;
    const int named = Poco::Net::IPAddress::tryParse(host, ip)
                          ? X509_VERIFY_PARAM_set1_ip_asc(verify, host.c_str())
                          : X509_VERIFY_PARAM_set1_host(verify, host.c_str(), host.size());
    if (named != 1) throw Error(ErrorCode::Internal, "cannot set the TLS host name " + host);
    return tls;
}

void clear_certificate_error() { t_certificate_error.clear(); }

Error tls_error(const Poco::Net::SSLException& e, const ClientTls& tls, const std::string& peer) {
    // CertificateValidationException (Poco's host name check) is an SSLException too.
    const bool certificate =
        !t_certificate_error.empty() ||
        dynamic_cast<const Poco::Net::CertificateValidationException*>(&e) != nullptr;
    if (!certificate) {
        return Error(ErrorCode::Io, "TLS handshake with " + peer + " failed: " + e.displayText());
    }
    const std::string reason = t_certificate_error.empty() ? e.displayText() : t_certificate_error;
    return Error(ErrorCode::VerificationFailed,
                 "the TLS certificate of " + peer + " is not trusted: " + reason +
                     (tls.ca_file.empty()
                          ? "; checked against the system's CA store (for a private CA or a "
                            "self-signed certificate, set FERRY_CA_FILE to its PEM file)"
                          : "; checked against the certificates in FERRY_CA_FILE=" + tls.ca_file));
}

}  // namespace ferry
