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
        {"releases, their links and readiness sign-offs",
         R"sql(
CREATE TABLE release (
    id             INTEGER PRIMARY KEY,
    reference      TEXT NOT NULL UNIQUE,   -- REL-YYYY-NNNN
    title          TEXT NOT NULL,
    description    TEXT NOT NULL,
    priority       TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    state          TEXT NOT NULL CHECK (state IN ('planning', 'building', 'testing', 'ready',
                       'deploying', 'deployed', 'closed', 'suspended', 'cancelled', 'backed-out')),
    suspended_from TEXT NOT NULL DEFAULT '',
    review_round   INTEGER NOT NULL DEFAULT 1,
    closing_review TEXT NOT NULL DEFAULT '',
    created_by     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE TABLE release_rfc (
    release_id INTEGER NOT NULL REFERENCES release(id),
    rfc_id     INTEGER NOT NULL REFERENCES rfc(id),
    PRIMARY KEY (release_id, rfc_id)
);
CREATE INDEX release_rfc_by_rfc ON release_rfc (rfc_id);
CREATE TABLE release_package (
    release_id         INTEGER NOT NULL REFERENCES release(id),
    package_version_id INTEGER NOT NULL REFERENCES package_version(id),
    PRIMARY KEY (release_id, package_version_id)
);
CREATE INDEX release_package_by_version ON release_package (package_version_id);
CREATE TABLE release_signoff (
    release_id INTEGER NOT NULL REFERENCES release(id),
    round      INTEGER NOT NULL,
    item       INTEGER NOT NULL,
    signer     TEXT NOT NULL,
    role       TEXT NOT NULL,
    decision   TEXT NOT NULL CHECK (decision IN ('go', 'no-go')),
    note       TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (release_id, round, item, signer)
);
)sql"},
        {"clients, inventory, collections, advertisements, policy, status, the feed",
         R"sql(
CREATE TABLE enrolment_secret (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    secret_digest     TEXT NOT NULL UNIQUE,
    requires_approval INTEGER NOT NULL,
    uses_left         INTEGER,              -- NULL: unlimited
    expires_at        INTEGER,
    created_by        TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    revoked_at        INTEGER
);
CREATE TABLE client (
    id                INTEGER PRIMARY KEY,
    uid               TEXT NOT NULL UNIQUE,   -- cl_<16 hex>, what agents and admins see
    hostname          TEXT NOT NULL,
    token_digest      TEXT NOT NULL UNIQUE,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'active', 'revoked')),
    secret_id         INTEGER REFERENCES enrolment_secret(id),
    enrolled_at       INTEGER NOT NULL,
    last_seen_at      INTEGER,
    inventory_at      INTEGER,
    inventory_seq     INTEGER NOT NULL DEFAULT 0,
    policy_dirty      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX client_dirty ON client (policy_dirty) WHERE policy_dirty = 1;
CREATE TABLE client_fact (
    client_id  INTEGER NOT NULL REFERENCES client(id),
    key        TEXT NOT NULL,
    text_value TEXT,
    num_value  REAL,
    PRIMARY KEY (client_id, key)
) WITHOUT ROWID;
CREATE INDEX client_fact_text ON client_fact (key, text_value);
CREATE INDEX client_fact_num ON client_fact (key, num_value);
CREATE TABLE client_software (
    client_id INTEGER NOT NULL REFERENCES client(id),
    name      TEXT NOT NULL,
    version   TEXT NOT NULL,
    PRIMARY KEY (client_id, name)
) WITHOUT ROWID;
CREATE INDEX client_software_name ON client_software (name, client_id);

CREATE TABLE collection (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    query       TEXT,                 -- NULL: static members only
    pilot       INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    evaluated_at INTEGER
);
CREATE TABLE collection_static (
    collection_id INTEGER NOT NULL REFERENCES collection(id),
    client_id     INTEGER NOT NULL REFERENCES client(id),
    PRIMARY KEY (collection_id, client_id)
) WITHOUT ROWID;
CREATE TABLE collection_link (
    collection_id INTEGER NOT NULL REFERENCES collection(id),
    other_id      INTEGER NOT NULL REFERENCES collection(id),
    kind          TEXT NOT NULL CHECK (kind IN ('include', 'exclude')),
    PRIMARY KEY (collection_id, other_id)
) WITHOUT ROWID;
-- Membership as last evaluated; advertisements and policies read this.
CREATE TABLE collection_member (
    collection_id INTEGER NOT NULL REFERENCES collection(id),
    client_id     INTEGER NOT NULL REFERENCES client(id),
    PRIMARY KEY (collection_id, client_id)
) WITHOUT ROWID;
CREATE INDEX collection_member_client ON collection_member (client_id, collection_id);

CREATE TABLE advertisement (
    id                 INTEGER PRIMARY KEY,
    package_version_id INTEGER NOT NULL REFERENCES package_version(id),
    release_id         INTEGER NOT NULL REFERENCES release(id),
    collection_id      INTEGER NOT NULL REFERENCES collection(id),
    action             TEXT NOT NULL CHECK (action IN ('install', 'uninstall')),
    available_at       INTEGER NOT NULL,
    deadline           INTEGER,
    mandatory          INTEGER NOT NULL,
    postpone_max       INTEGER NOT NULL,
    postpone_max_delay INTEGER NOT NULL,
    windows            TEXT NOT NULL,      -- JSON array of window specs
    state              TEXT NOT NULL CHECK (state IN ('active', 'halted', 'cancelled')),
    created_by         TEXT NOT NULL,
    created_at         INTEGER NOT NULL
);
CREATE INDEX advertisement_collection ON advertisement (collection_id);

CREATE TABLE client_policy (
    client_id  INTEGER PRIMARY KEY REFERENCES client(id),
    version    INTEGER NOT NULL,
    content    TEXT NOT NULL,    -- BLAKE2b of what the policy says, without version and times
    etag       TEXT NOT NULL,
    json       TEXT NOT NULL,
    signature  TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX client_policy_expiry ON client_policy (expires_at);

CREATE TABLE status_message (
    client_id        INTEGER NOT NULL REFERENCES client(id),
    seq              INTEGER NOT NULL,   -- the agent's outbox sequence: resends are ignored
    advertisement_id INTEGER NOT NULL REFERENCES advertisement(id),
    state            TEXT NOT NULL,
    exit_code        INTEGER,
    log_tail         TEXT NOT NULL,
    at               INTEGER NOT NULL,
    received_at      INTEGER NOT NULL,
    PRIMARY KEY (client_id, seq)
) WITHOUT ROWID;
CREATE TABLE client_advertisement (
    client_id        INTEGER NOT NULL REFERENCES client(id),
    advertisement_id INTEGER NOT NULL REFERENCES advertisement(id),
    state            TEXT NOT NULL,
    exit_code        INTEGER,
    log_tail         TEXT NOT NULL,
    at               INTEGER NOT NULL,
    seq              INTEGER NOT NULL,
    PRIMARY KEY (advertisement_id, client_id)
) WITHOUT ROWID;

-- What distribution points pull: every new policy and every object an advertisement needs.
CREATE TABLE feed (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    kind    TEXT NOT NULL CHECK (kind IN ('policy', 'object')),
    subject TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE TABLE dp (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    token_digest TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_seen_at INTEGER
);
)sql"},
        {"collected objects of retired package versions",
         R"sql(
ALTER TABLE package_version ADD COLUMN collected_at INTEGER;
)sql"},
        {"inventory without secondary indexes",
         R"sql(
-- Collection queries probe each client's rows by primary key (client_id, key|name); these
-- indexes served no query and scattered every inventory write over hundreds of pages.
DROP INDEX client_fact_text;
DROP INDEX client_fact_num;
DROP INDEX client_software_name;
)sql"},
        {"distribution points: address, reports, assignment; clients on the feed",
         R"sql(
-- The feed also tells distribution points about clients (the digest of each token and its
-- state), so that a DP authenticates clients without asking the site. SQLite cannot widen a
-- CHECK in place: the table is rebuilt with its sequence.
CREATE TABLE feed_v2 (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    kind    TEXT NOT NULL CHECK (kind IN ('policy', 'object', 'client')),
    subject TEXT NOT NULL,
    at      INTEGER NOT NULL,
    detail  TEXT
);
INSERT INTO feed_v2 (seq, kind, subject, at) SELECT seq, kind, subject, at FROM feed;
DROP TABLE feed;
ALTER TABLE feed_v2 RENAME TO feed;
INSERT INTO feed (kind, subject, at, detail)
    SELECT 'client', uid, CAST(strftime('%s', 'now') AS INTEGER), token_digest || ' ' || state
    FROM client ORDER BY id;
CREATE TRIGGER client_on_feed_insert AFTER INSERT ON client BEGIN
    INSERT INTO feed (kind, subject, at, detail)
    VALUES ('client', NEW.uid, CAST(strftime('%s', 'now') AS INTEGER),
            NEW.token_digest || ' ' || NEW.state);
END;
CREATE TRIGGER client_on_feed_update AFTER UPDATE OF state, token_digest ON client
WHEN OLD.state IS NOT NEW.state OR OLD.token_digest IS NOT NEW.token_digest BEGIN
    INSERT INTO feed (kind, subject, at, detail)
    VALUES ('client', NEW.uid, CAST(strftime('%s', 'now') AS INTEGER),
            NEW.token_digest || ' ' || NEW.state);
END;
ALTER TABLE dp ADD COLUMN url TEXT;
ALTER TABLE dp ADD COLUMN report TEXT;  -- the last heartbeat's figures, JSON
ALTER TABLE dp ADD COLUMN collection_id INTEGER REFERENCES collection(id);
ALTER TABLE dp ADD COLUMN schedule TEXT NOT NULL DEFAULT '';
ALTER TABLE dp ADD COLUMN replica INTEGER NOT NULL DEFAULT 0;
)sql"},
        {"every library object on the feed, with its size, for replica distribution points",
         R"sql(
INSERT INTO feed (kind, subject, at, detail)
    SELECT 'object', object_id, CAST(strftime('%s', 'now') AS INTEGER), 'library ' || size
    FROM package_version ORDER BY id;
CREATE TRIGGER package_on_feed AFTER INSERT ON package_version BEGIN
    INSERT INTO feed (kind, subject, at, detail)
    VALUES ('object', NEW.object_id, CAST(strftime('%s', 'now') AS INTEGER),
            'library ' || NEW.size);
END;
)sql"},
        {"distribution points learn which clients left them",
         R"sql(
-- A policy entry with a detail tells a distribution point to ask again for a client it may no
-- longer serve: 'left C' when the client left collection C (shown to the DPs serving C), 'dp
-- NAME' when DP NAME was given another collection (shown to NAME). The DP asks the site for the
-- policy, which it no longer gets (404), and drops it: the client's next poll there falls back
-- to the site, and so to the policy that names its new sources.
CREATE TRIGGER member_left_dp AFTER DELETE ON collection_member
WHEN EXISTS (SELECT 1 FROM dp WHERE dp.collection_id = OLD.collection_id
             AND dp.revoked_at IS NULL) BEGIN
    INSERT INTO feed (kind, subject, at, detail)
    SELECT 'policy', uid, CAST(strftime('%s', 'now') AS INTEGER), 'left ' || OLD.collection_id
    FROM client WHERE id = OLD.client_id;
END;
CREATE TRIGGER dp_reassigned AFTER UPDATE OF collection_id ON dp
WHEN OLD.collection_id IS NOT NULL AND OLD.collection_id IS NOT NEW.collection_id BEGIN
    INSERT INTO feed (kind, subject, at, detail)
    SELECT 'policy', c.uid, CAST(strftime('%s', 'now') AS INTEGER), 'dp ' || NEW.name
    FROM collection_member m JOIN client c ON c.id = m.client_id
    WHERE m.collection_id = OLD.collection_id;
END;
)sql"},
        {"rollouts: advertisements in waves",
         R"sql(
CREATE TABLE rollout (
    id                INTEGER PRIMARY KEY,
    advertisement_id  INTEGER NOT NULL UNIQUE REFERENCES advertisement(id),
    success_threshold INTEGER NOT NULL CHECK (success_threshold BETWEEN 1 AND 100),
    error_threshold   INTEGER NOT NULL CHECK (error_threshold BETWEEN 0 AND 100),
    sign_off          INTEGER NOT NULL,
    current_wave      INTEGER NOT NULL,  -- the last started wave, -1 before the first
    state             TEXT NOT NULL CHECK (state IN ('active', 'halted', 'cancelled',
                                                     'completed')),
    reason            TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    completed_at      INTEGER
);
CREATE TABLE rollout_wave (
    rollout_id      INTEGER NOT NULL REFERENCES rollout(id),
    number          INTEGER NOT NULL,  -- 0-based
    collection_id   INTEGER REFERENCES collection(id),  -- NULL: a percentage wave
    percent         INTEGER NOT NULL,
    pilot           INTEGER NOT NULL,
    started_at      INTEGER,
    completed_at    INTEGER,
    failed_accepted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (rollout_id, number)
) WITHOUT ROWID;
-- Every client of the target collection, in the wave it was placed in (it stays there).
CREATE TABLE rollout_client (
    rollout_id INTEGER NOT NULL REFERENCES rollout(id),
    client_id  INTEGER NOT NULL REFERENCES client(id),
    wave       INTEGER NOT NULL,
    placed_at  INTEGER NOT NULL,
    PRIMARY KEY (rollout_id, client_id)
) WITHOUT ROWID;
CREATE INDEX rollout_client_wave ON rollout_client (rollout_id, wave);
-- Progress over time: one row per wave whenever a rollout's counts changed.
CREATE TABLE rollout_sample (
    rollout_id  INTEGER NOT NULL REFERENCES rollout(id),
    at          INTEGER NOT NULL,
    wave        INTEGER NOT NULL,
    members     INTEGER NOT NULL,
    succeeded   INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    in_progress INTEGER NOT NULL
);
CREATE INDEX rollout_sample_at ON rollout_sample (rollout_id, at);
CREATE INDEX client_advertisement_client ON client_advertisement (client_id);
-- A backout's advertisements: each returns the clients that installed `backout_of` to what
-- they had before (docs/operations.md, "Backing a release out").
ALTER TABLE advertisement ADD COLUMN backout_of INTEGER REFERENCES advertisement(id);
-- The deployment's results as they stood when the release was closed (JSON).
ALTER TABLE release ADD COLUMN closing_results TEXT NOT NULL DEFAULT '';
)sql"},
        {"inventory software by number",
         R"sql(
-- Each installed package is stored as the id of its (name, version) entry: a client's rows are
-- two integers each, a third of their size as text, and a report's writes compare integers in
-- the B-tree. Inventory churn is the site's heaviest write load (docs/benchmarks.md). Entries
-- are never deleted or renumbered: ferryd keeps the ids it has seen in memory (SoftwareIds).
-- Each name has a block of 2^20 ids (kSoftwareIdsPerName), its versions numbered within it, so
-- that "software contains NAME" is one range of a client's rows.
CREATE TABLE software (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL,
    version TEXT NOT NULL,
    UNIQUE (name, version)
);
INSERT INTO software (id, name, version)
    SELECT dense_rank() OVER (ORDER BY name) * 1048576
               + row_number() OVER (PARTITION BY name ORDER BY version) - 1,
           name, version
    FROM (SELECT DISTINCT name, version FROM client_software) ORDER BY 1;
-- No REFERENCES here, unlike the other client tables: their checks were a quarter of a report's
-- writes (a parent lookup in client and one in software for every package row). Clients and
-- software entries are never deleted, the writer reads the client's row in the transaction that
-- writes its packages, and package ids come only from the software table.
CREATE TABLE client_software_v2 (
    client_id   INTEGER NOT NULL,
    software_id INTEGER NOT NULL,
    PRIMARY KEY (client_id, software_id)
) WITHOUT ROWID;
INSERT INTO client_software_v2 (client_id, software_id)
    SELECT s.client_id, w.id FROM client_software s
    JOIN software w ON w.name = s.name AND w.version = s.version ORDER BY 1, 2;
DROP TABLE client_software;
ALTER TABLE client_software_v2 RENAME TO client_software;
)sql"},
    };
    return migrations;
}

}  // namespace ferry::server
