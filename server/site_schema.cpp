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
        {"publishers and package versions",
         R"sql(
CREATE TABLE publisher (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL UNIQUE,   -- minisign public key, base64
    packages   TEXT NOT NULL,          -- JSON array of name patterns ("hello", "lib*", "*")
    created_at INTEGER NOT NULL
);
CREATE TABLE package_version (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    version       TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    size          INTEGER NOT NULL,
    signature     TEXT NOT NULL,       -- the .minisig text
    publisher_id  INTEGER NOT NULL REFERENCES publisher(id),
    manifest      TEXT NOT NULL,       -- ferry.json as stored in the package
    registered_by TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    retired_at    INTEGER,
    UNIQUE (name, version)
);
CREATE INDEX package_version_object ON package_version (object_id);
)sql"},
        {"requests for change and CAB votes",
         R"sql(
CREATE TABLE rfc (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL,
    business_need TEXT NOT NULL,
    risk          TEXT NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
    requester     TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('submitted', 'approved', 'rejected', 'implemented')),
    needed        INTEGER NOT NULL CHECK (needed >= 1),
    created_at    INTEGER NOT NULL
);
CREATE TABLE rfc_vote (
    rfc_id   INTEGER NOT NULL REFERENCES rfc(id),
    voter    TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    reason   TEXT NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (rfc_id, voter)
);
)sql"},
    };
    return migrations;
}

}  // namespace ferry::server
