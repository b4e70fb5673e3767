#include "site_config.h"

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <sstream>

#include "ferry/atomic_file.h"
#include "ferry/error.h"
#include "ferry/throttle.h"

namespace ferry::server {

void parse_listen_address(const std::string& text, const std::string& what, std::string& host,
                          std::uint16_t& port) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
        throw Error(ErrorCode::InvalidInput, what + ": \"" + text + "\" is not HOST:PORT");
    }
    host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    const std::string port_text = text.substr(colon + 1);
    if (port_text.find_first_not_of("0123456789") != std::string::npos || port_text.size() > 5 ||
        std::stoul(port_text) > 65535) {
        throw Error(ErrorCode::InvalidInput,
                    what + ": \"" + port_text + "\" is not a port number (0-65535)");
    }
    port = static_cast<std::uint16_t>(std::stoul(port_text));
}

SiteConfig SiteConfig::load(const std::string& path) {
    // Read through ferry's own reader first: a missing file says so, a FIFO does not hang.
    const std::string text = read_small_file(path, 1 << 20);
    Poco::AutoPtr<Poco::Util::IniFileConfiguration> ini;
    try {
        std::istringstream in(text);
        ini = new Poco::Util::IniFileConfiguration(in);
    } catch (const Poco::Exception& e) {
        throw Error(ErrorCode::InvalidInput, path + ": " + e.displayText());
    }
    auto get = [&](const std::string& key, bool required) {
        const std::string full = "ferryd." + key;
        if (!ini->hasProperty(full)) {
            if (required)
                throw Error(ErrorCode::InvalidInput, path + ": [ferryd] " + key + " is missing");
            return std::string();
        }
        return ini->getString(full);
    };
    SiteConfig c;
    c.role = get("role", true);
    if (c.role != "site" && c.role != "dp")
        throw Error(ErrorCode::InvalidInput,
                    path + ": [ferryd] role must be \"site\" or \"dp\" (got \"" + c.role + "\")");
    c.data_dir = get("data_dir", true);
    parse_listen_address(get("listen", true), path + ": [ferryd] listen", c.listen_host,
                         c.listen_port);
    c.tls_certificate = get("tls_certificate", false);
    c.tls_key = get("tls_key", false);
    c.console_dir = get("console_dir", false);
    if (c.role == "dp") {
        c.parent = get("parent", true);
        if (c.parent.rfind("http://", 0) != 0 && c.parent.rfind("https://", 0) != 0)
            throw Error(ErrorCode::InvalidInput,
                        path + ": [ferryd] parent must be an http:// or https:// URL");
        c.serve_limit = get("serve_limit", false);
        c.serve_connection_limit = get("serve_connection_limit", false);
        for (const auto& [key, value] :
             {std::pair<const char*, const std::string*>{"serve_limit", &c.serve_limit},
              {"serve_connection_limit", &c.serve_connection_limit}}) {
            if (value->empty()) continue;
            try {
                parse_rate(*value);
            } catch (const Error& e) {
                throw Error(ErrorCode::InvalidInput, path + ": [ferryd] " + key + ": " + e.what());
            }
        }
        const std::string interval = get("sync_interval", false);
        if (!interval.empty()) {
            if (interval.find_first_not_of("0123456789") != std::string::npos ||
                interval.size() > 5 || std::stoi(interval) < 1 || std::stoi(interval) > 3600)
                throw Error(ErrorCode::InvalidInput,
                            path + ": [ferryd] sync_interval must be 1 to 3600 seconds");
            c.sync_interval_s = std::stoi(interval);
        }
    }
    if (c.tls_certificate.empty() != c.tls_key.empty()) {
        throw Error(ErrorCode::InvalidInput,
                    path + ": [ferryd] tls_certificate and tls_key go together");
    }
    return c;
}

std::string SiteConfig::to_ini() const {
    std::ostringstream out;
    out << "; ferryd configuration, written by `ferryd init`.\n"
        << "[ferryd]\n"
        << "role = " << role << "\n"
        << "data_dir = " << data_dir << "\n"
        << "; HOST:PORT. Without TLS, ferryd serves only on a loopback address.\n"
        << "listen = "
        << (listen_host.find(':') != std::string::npos ? "[" + listen_host + "]" : listen_host)
        << ":" << listen_port << "\n"
        << "; PEM files; set both to serve HTTPS.\n"
        << "tls_certificate = " << tls_certificate << "\n"
        << "tls_key = " << tls_key << "\n";
    if (role == "site")
        out << "; the web console's files (empty: share/ferry/console beside ferryd)\n"
            << "console_dir = " << console_dir << "\n";
    if (role == "dp")
        out << "; the parent this distribution point replicates from (its token: "
               "keys/parent.token)\n"
            << "parent = " << parent << "\n"
            << "; seconds between pulls of the parent's feed and forwards of queued reports\n"
            << "sync_interval = " << sync_interval_s << "\n"
            << "; bandwidth for serving clients: all connections together, and each one\n"
            << "; (e.g. 20MiB/s; empty: unlimited)\n"
            << "serve_limit = " << serve_limit << "\n"
            << "serve_connection_limit = " << serve_connection_limit << "\n";
    return out.str();
}

}  // namespace ferry::server
