// `ferryd backup` and `ferryd restore`: a consistent copy of a site, taken while it runs, and a
// new site made from one.
//
// A backup directory mirrors a site's data directory:
//
//   ferry.db            the database, copied with SQLite's online backup API (one snapshot, in
//                       rollback-journal mode so the file stands alone), integrity-checked
//   objects/ab/<id>     every complete object (temporary files skipped), copied and re-hashed
//   keys/…              the site key files, modes kept (site.key stays 0600)
//   ferryd.ini          the configuration the site ran with
//   backup.json         written last and atomically: a backup without it is incomplete
//
// The database is copied first, the objects after it: objects are immutable and content-
// addressed, so every object the database snapshot names already exists when the objects are
// listed (objects stored later are copied too, harmlessly).
//
// backup.json records the time, the schema version, the number and total size of the objects,
// and the size, BLAKE2b-256 and mode of every other file, so that restore can check them all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ferry::server {

struct BackupSummary {
    std::string data_dir;    // the site that was backed up
    std::string backup_dir;  // where the backup is
    int schema_version = 0;
    std::uint64_t objects = 0;
    std::uint64_t object_bytes = 0;
    std::string manifest_json;  // backup.json as written
};

// Backs up the site configured by `config_path` (it may be serving) into `backup_dir`, which
// must not exist or be empty; it is created 0700 since it holds the site key. On failure what
// was written is removed and the error rethrown: Error(AlreadyExists) for a non-empty target,
// Error(VerificationFailed) for an object whose bytes no longer match its id or a database that
// fails its integrity check, other codes naming the file for I/O and input errors.
BackupSummary backup_site(const std::string& config_path, const std::string& backup_dir);

struct RestoreSummary {
    std::string config_path;  // NEW_DIR/ferryd.ini
    std::string listen;       // HOST:PORT the restored site will listen on
    int schema_version = 0;
    std::uint64_t objects = 0;
    std::uint64_t object_bytes = 0;
};

// Makes a site in `target_dir` (must not exist or be empty) from the backup in `backup_dir`:
// checks backup.json, verifies every file against it and every object against its id, writes
// the database, keys and objects, and, last, ferryd.ini with data_dir set to the new directory
// (and listen replaced when `listen` is given). Reads the backup without writing to it.
// On failure what was written is removed: Error(VerificationFailed) names the file or object
// that does not match; Error(InvalidInput) for a missing or malformed backup.json;
// Error(AlreadyExists) for a non-empty target.
RestoreSummary restore_site(const std::string& backup_dir, const std::string& target_dir,
                            const std::optional<std::string>& listen);

}  // namespace ferry::server
