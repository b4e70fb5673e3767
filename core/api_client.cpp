#include "ferry/api_client.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SSLException.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>

#include "ferry/atomic_file.h"
#include "ferry/error.h"
#include "ferry/json.h"

struct ferry::ApiClient::Tls {
    Poco::Net::Context::Ptr context;
    std::string ca_file;  // FERRY_CA_FILE, or empty for the system's CA store
};

namespace ferry {
namespace {

// Why OpenSSL refused the server's certificate during the handshake running on this thread.
// Handshakes are synchronous, inside one request() call, so a thread-local is enough.
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

std::shared_ptr<const ApiClient::Tls> ApiClient::make_tls(const std::string& host) {
    static std::once_flag ssl_initialised;
    std::call_once(ssl_initialised, [] { Poco::Net::initializeSSL(); });
    auto tls = std::make_shared<Tls>();
    const char* ca_env = std::getenv("FERRY_CA_FILE");
    tls->ca_file = ca_env != nullptr ? ca_env : "";
    if (!tls->ca_file.empty()) {
        // Read here first so that a missing or unreadable file is named in our words.
        try {
            const std::string pem = read_small_file(tls->ca_file, kMaxCaFileBytes);
            if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
                throw Error(
                    ErrorCode::InvalidInput,
                    tls->ca_file + ": no PEM certificate (\"-----BEGIN CERTIFICATE-----\")");
            }
        } catch (const Error& e) {
            throw e.with_context("FERRY_CA_FILE");
        }
    }
    Poco::Net::Context::Params params;
    params.caLocation = tls->ca_file;
    params.loadDefaultCAs = tls->ca_file.empty();  // a given CA file replaces the system store
    // STRICT: Poco otherwise skips its host name check for "localhost" and 127.0.0.1.
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.verificationDepth = 9;
    params.cipherList = kClientCiphers;
    try {
        tls->context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
        tls->context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
        tls->context->enableExtendedCertificateVerification(true);
    } catch (const Poco::Exception& e) {
        if (!tls->ca_file.empty())
            throw Error(ErrorCode::InvalidInput,
                        "FERRY_CA_FILE " + tls->ca_file + ": " + e.displayText());
        throw Error(ErrorCode::Internal, "cannot set up TLS: " + e.displayText());
    }
    SSL_CTX* ctx = tls->context->sslContext();
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

namespace {

ErrorCode code_for_status(int status) {
    switch (status) {
        case 400:
            return ErrorCode::InvalidInput;
        case 401:
            return ErrorCode::Unauthenticated;
        case 403:
            return ErrorCode::Forbidden;
        case 404:
            return ErrorCode::NotFound;
        case 409:
            return ErrorCode::Conflict;
        case 413:
            return ErrorCode::LimitExceeded;
        case 422:
            return ErrorCode::VerificationFailed;
        default:
            return ErrorCode::Internal;
    }
}

}  // namespace

ApiClient::ApiClient(const std::string& server, std::string token) : token_(std::move(token)) {
    Poco::URI uri;
    try {
        uri = Poco::URI(server);
    } catch (const Poco::Exception& e) {
        throw Error(ErrorCode::InvalidInput, "--server \"" + server + "\": " + e.displayText());
    }
    if ((uri.getScheme() != "http" && uri.getScheme() != "https") || uri.getHost().empty()) {
        throw Error(
            ErrorCode::InvalidInput,
            "--server \"" + server + "\" must look like http://HOST:PORT or https://HOST:PORT");
    }
    scheme_ = uri.getScheme();
    host_ = uri.getHost();
    port_ = uri.getPort();
    if (token_.empty())
        throw Error(ErrorCode::InvalidInput, "a token is needed: --token T or FERRY_TOKEN");
    if (scheme_ == "https") tls_ = make_tls(host_);
}

Poco::JSON::Object::Ptr ApiClient::get(const std::string& path) const {
    return request("GET", path, "");
}

Poco::JSON::Object::Ptr ApiClient::post(const std::string& path,
                                        const std::string& json_body) const {
    return request("POST", path, json_body);
}

Poco::JSON::Object::Ptr ApiClient::put_file(const std::string& path,
                                            const std::string& file) const {
    return request("PUT", path, "", file);
}

Poco::JSON::Object::Ptr ApiClient::request(const std::string& method, const std::string& path,
                                           const std::string& body, const std::string& file) const {
    std::ifstream upload;
    std::uint64_t upload_size = 0;
    if (!file.empty()) {
        upload.open(file, std::ios::binary | std::ios::ate);
        if (!upload) throw Error(ErrorCode::NotFound, "cannot open " + file);
        upload_size = static_cast<std::uint64_t>(upload.tellg());
        upload.seekg(0);
    }
    const std::string where = scheme_ + "://" +
                              (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) +
                              ":" + std::to_string(port_);
    std::string answer;
    Poco::Net::HTTPResponse response;
    t_certificate_error.clear();
    try {
        const std::unique_ptr<Poco::Net::HTTPClientSession> connection =
            tls_ ? std::make_unique<Poco::Net::HTTPSClientSession>(host_, port_, tls_->context)
                 : std::make_unique<Poco::Net::HTTPClientSession>(host_, port_);
        Poco::Net::HTTPClientSession& session = *connection;
        session.setTimeout(Poco::Timespan(30, 0));
        Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("Authorization", "Bearer " + token_);
        if (!file.empty()) {
            request.setContentType("application/octet-stream");
            request.setContentLength64(static_cast<Poco::Int64>(upload_size));
            std::ostream& out = session.sendRequest(request);
            Poco::StreamCopier::copyStream64(upload, out);
        } else {
            if (method == "POST") {
                request.setContentType("application/json");
                request.setContentLength(static_cast<std::streamsize>(body.size()));
            }
            session.sendRequest(request) << body;
        }
        Poco::StreamCopier::copyToString(session.receiveResponse(response), answer);
    } catch (const Poco::Net::SSLException& e) {
        // CertificateValidationException (Poco's host name check) is an SSLException too.
        const bool certificate =
            !t_certificate_error.empty() ||
            dynamic_cast<const Poco::Net::CertificateValidationException*>(&e) != nullptr;
        if (!certificate) {
            throw Error(ErrorCode::Io,
                        "TLS handshake with ferryd at " + where + " failed: " + e.displayText());
        }
        const std::string reason =
            t_certificate_error.empty() ? e.displayText() : t_certificate_error;
        throw Error(
            ErrorCode::VerificationFailed,
            "the TLS certificate of ferryd at " + where + " is not trusted: " + reason +
                (tls_->ca_file.empty()
                     ? "; checked against the system's CA store (for a private CA or a "
                       "self-signed certificate, set FERRY_CA_FILE to its PEM file)"
                     : "; checked against the certificates in FERRY_CA_FILE=" + tls_->ca_file));
    } catch (const Poco::Exception& e) {
        std::string hint;
        if (!tls_ && (dynamic_cast<const Poco::Net::NoMessageException*>(&e) != nullptr ||
                      dynamic_cast<const Poco::Net::ConnectionResetException*>(&e) != nullptr))
            hint = " (if ferryd serves HTTPS there, use an https:// URL)";
        throw Error(ErrorCode::Io,
                    "cannot reach ferryd at " + where + ": " + e.displayText() + hint);
    }
    const int status = static_cast<int>(response.getStatus());
    Poco::JSON::Object::Ptr json;
    try {
        json = json::parse_object(answer, "answer from " + where);
    } catch (const Error&) {
        if (status >= 400)
            throw Error(code_for_status(status), "ferryd answered " + std::to_string(status));
        throw;
    }
    if (status >= 400) {
        const std::string message = json->has("message") ? json->getValue<std::string>("message")
                                                         : "error " + std::to_string(status);
        throw Error(code_for_status(status), message);
    }
    return json;
}

}  // namespace ferry
