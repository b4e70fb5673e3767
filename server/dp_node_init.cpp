#include "dp_node_init.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "dp_node_state.h"
#include "ferry/api_client.h"
#include "ferry/atomic_file.h"
#include "ferry/error.h"
#include "ferry/object_store.h"
#include "site_config.h"

namespace ferry::server {

std::string init_dp(const std::string& dir, const std::string& listen, const std::string& parent,
                    const std::string& token, int sync_interval_s) {
    SiteConfig config;
    config.role = "dp";
    if (sync_interval_s < 1 || sync_interval_s > 3600)
        throw Error(ErrorCode::InvalidInput, "--sync-interval must be 1 to 3600 seconds");
    config.sync_interval_s = sync_interval_s;
    parse_listen_address(listen, "--listen", config.listen_host, config.listen_port);
    if (parent.rfind("http://", 0) != 0 && parent.rfind("https://", 0) != 0)
        throw Error(ErrorCode::InvalidInput, "--parent must be an http:// or https:// URL");
    if (token.rfind("dp_", 0) != 0)
        throw Error(ErrorCode::InvalidInput,
                    "--token must be a distribution point's token (dp_…, from ferryctl dp add)");
    config.parent = parent;
    // Registration: the parent must know this token as a distribution point's before anything
    // is written (the feed answers only users and DPs; a DP's token reads nothing else).
    try {
        ApiClient(parent, token).get("/api/v1/feed?limit=1");
    } catch (const Error& e) {
        if (e.code() == ErrorCode::Unauthenticated || e.code() == ErrorCode::Forbidden)
            throw Error(ErrorCode::Unauthenticated,
                        "the parent " + parent + " does not accept this token: " + e.what());
        throw;
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw_system_error("cannot create " + dir);
    config.data_dir = std::filesystem::canonical(dir).string();
    const std::string config_path = config.data_dir + "/ferryd.ini";
    if (std::filesystem::exists(config_path) || std::filesystem::exists(config.dp_database_path()))
        throw Error(ErrorCode::AlreadyExists,
                    config.data_dir + " is already initialised (ferryd.ini or dp.db exists)");
    if (::mkdir((config.data_dir + "/keys").c_str(), 0700) != 0 && errno != EEXIST)
        throw_system_error("cannot create " + config.data_dir + "/keys");
    ObjectStore store(config.data_dir);
    DpNodeState state(config.dp_database_path());
    write_file_atomically(config.parent_token_path(), token + "\n", 0600);
    write_file_atomically(config_path, config.to_ini(), 0600);  // last: it marks the DP ready
    return config_path;
}

}  // namespace ferry::server
