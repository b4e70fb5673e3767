#include "site_schema.h"

namespace ferry::server {

const std::vector<sql::Migration>& site_migrations() {
    static const std::vector<sql::Migration> migrations = {
        {"users and the change log",
         R"sql(
CREATE TABLE user (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'release-manager', 'cab', 'packager', 'viewer')),
    token_digest TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
-- Append-only: rows are never updated or deleted (enforced below).
CREATE TABLE changelog (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    before  TEXT,
    after   TEXT
);
CREATE TRIGGER changelog_no_update BEFORE UPDATE ON changelog
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
CREATE TRIGGER changelog_no_delete BEFORE DELETE ON changelog
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
)sql"},
    };
    return migrations;
}

}  // namespace ferry::server
