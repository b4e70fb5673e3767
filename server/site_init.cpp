#include "site_init.h"

#include <sys/stat.h>

#include <cerrno>
#include <ctime>
#include <filesystem>

#include "ferry/atomic_file.h"
#include "ferry/error.h"
#include "ferry/minisign.h"
#include "ferry/object_store.h"
#include "ferry/secure_buffer.h"
#include "ferry/sqlite.h"
#include "ferry/token.h"
#include "site_config.h"
#include "site_schema.h"

namespace ferry::server {
namespace {

void make_private_directory(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
        throw_system_error("cannot create " + path);
}

}  // namespace

InitResult init_site(const std::string& dir, const std::string& listen) {
    SiteConfig config;
    parse_listen_address(listen, "--listen", config.listen_host, config.listen_port);
    make_private_directory(dir);
    config.data_dir = std::filesystem::canonical(dir).string();
    const std::string config_path = config.data_dir + "/ferryd.ini";
    struct stat st {};
    if (::stat(config_path.c_str(), &st) == 0 || ::stat(config.database_path().c_str(), &st) == 0) {
        throw Error(ErrorCode::AlreadyExists,
                    config.data_dir + " is already initialised (ferryd.ini or ferry.db exists)");
    }
    make_private_directory(config.data_dir + "/keys");
    ObjectStore store(config.data_dir);

    // The site key: what every client pins at enrolment.
    const auto key = minisign::SecretKey::generate();
    std::string key_text = key.to_file_text(std::nullopt);
    write_file_atomically(config.site_key_path(), key_text, 0600);
    wipe(key_text);
    write_file_atomically(config.site_pub_path(), key.public_key().to_file_text(), 0644);

    InitResult result;
    result.admin_token = generate_token("admin");
    result.site_public_key = key.public_key().to_base64();
    {
        sql::Database db(config.database_path());
        db.migrate(site_migrations());
        const auto now = static_cast<std::int64_t>(::time(nullptr));
        sql::Transaction transaction(db);
        db.prepare(
              "INSERT INTO user (name, role, token_digest, created_at) VALUES ('admin', 'admin', "
              "?, ?)")
            .bind(1, token_digest(result.admin_token))
            .bind(2, now)
            .run();
        db.prepare(
              "INSERT INTO changelog (at, actor, action, subject, after) VALUES (?, 'ferryd init', "
              "'site.init', ?, ?)")
            .bind(1, now)
            .bind(2, config.data_dir)
            .bind(3, "site key " + key.public_key().key_id_hex() + ", bootstrap user admin")
            .run();
        transaction.commit();
    }
    // Last: a directory with ferryd.ini is a complete site.
    write_file_atomically(config_path, config.to_ini(), 0600);
    result.config_path = config_path;
    return result;
}

}  // namespace ferry::server
