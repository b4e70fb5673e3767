// ReleaseStore on the site's SQLite database.
#pragma once

#include "ferry/sqlite.h"
#include "release.h"

namespace ferry::server {

class SqliteReleaseStore : public ReleaseStore {
  public:
    explicit SqliteReleaseStore(sql::Database& db) : db_(db) {}
    Release create(const Release& release, const ChangeLogEntry& entry) override;
    std::optional<Release> find(const std::string& reference) override;
    std::vector<Release> list() override;
    void update(const Release& release, const std::string& expected_state,
                const ChangeLogEntry& entry) override;
    void sign(const Release& release, const SignOff& signoff,
              const std::vector<ChangeLogEntry>& entries, bool send_back) override;
    std::optional<std::string> rfc_state(std::int64_t rfc_id) override;
    std::optional<PackageStanding> package(const ReleasePackage& package) override;

  private:
    void load_links(Release& release);
    void write_packages(const Release& release);
    void stop_advertisements(const Release& release);
    std::int64_t package_version_id(const ReleasePackage& package);
    sql::Database& db_;
};

}  // namespace ferry::server
