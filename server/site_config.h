// ferryd.ini: where a site keeps its data and how it listens. Written by `ferryd init`, read by
// `ferryd --config`. Errors name the file and the key.
#pragma once

#include <cstdint>
#include <string>

namespace ferry::server {

struct SiteConfig {
    std::string role = "site";
    std::string data_dir;
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8470;  // 0: any free port (tests)
    std::string tls_certificate;       // both empty: plain HTTP, allowed on loopback only
    std::string tls_key;
    std::string parent;  // dp role: the URL of the site or DP it replicates from
    // How often a DP pulls its parent's feed, forwards reports and reports itself (seconds).
    int sync_interval_s = 5;
    // dp role: bandwidth for serving objects to clients — all connections together (shared in
    // turn) and each one; rate text as in include/ferry/throttle.h ("unlimited" when empty).
    std::string serve_limit;
    std::string serve_connection_limit;
    // site role: where the web console's files are; "" is share/ferry/console beside ferryd
    // (server/console_files.h).
    std::string console_dir;

    std::string database_path() const { return data_dir + "/ferry.db"; }
    std::string site_key_path() const { return data_dir + "/keys/site.key"; }
    std::string site_pub_path() const { return data_dir + "/keys/site.pub"; }
    // dp role: its own state, and the token its parent issued (0600, never in the ini).
    std::string dp_database_path() const { return data_dir + "/dp.db"; }
    std::string parent_token_path() const { return data_dir + "/keys/parent.token"; }

    static SiteConfig load(const std::string& path);
    std::string to_ini() const;
};

// Parses "HOST:PORT" (IPv4 or [IPv6]); Error(InvalidInput) naming `what` otherwise.
void parse_listen_address(const std::string& text, const std::string& what, std::string& host,
                          std::uint16_t& port);

}  // namespace ferry::server
