#include "site_backup.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSONString.h>
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

#include "ferry/atomic_file.h"
#include "ferry/encoding.h"
#include "ferry/error.h"
#include "ferry/hash.h"
#include "ferry/json.h"
#include "ferry/object_store.h"
#include "ferry/sqlite.h"
#include "site_config.h"
#include "site_schema.h"

namespace ferry::server {
namespace {

constexpr const char* kFormat = "ferry-site-backup";
constexpr int kFormatVersion = 1;
constexpr const char* kManifest = "backup.json";
constexpr std::size_t kMaxManifestBytes = 1 << 20;
constexpr std::size_t kMaxConfigBytes = 1 << 20;
// How long the database copy waits for a lock held by the running site before giving up.
constexpr auto kDatabaseBusyDeadline = std::chrono::seconds(60);

// ---- directories ----

class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

// The names in `dir` (without "." and ".."); Error naming `dir` when it cannot be read.
std::vector<std::string> directory_entries(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) throw_system_error("cannot list " + dir);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    const int saved = errno;
    ::closedir(d);
    if (saved != 0) {
        errno = saved;
        throw_system_error("cannot list " + dir);
    }
    std::sort(names.begin(), names.end());
    return names;
}

// The target of a backup or a restore: a directory that does not exist (created 0700: it will
// hold the site key) or is empty. Unless keep() is called, everything written into it is removed
// again when it goes out of scope, so a failed run leaves nothing half-made behind.
class FreshDirectory {
  public:
    FreshDirectory(const std::string& path, const std::string& what) {
        if (path.empty()) throw Error(ErrorCode::InvalidInput, what + ": the directory is empty");
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                throw Error(ErrorCode::AlreadyExists, path + " exists and is not a directory");
            if (!directory_entries(path).empty()) {
                throw Error(ErrorCode::AlreadyExists, path + " is not empty: " + what +
                                                          " goes into a new or empty directory");
            }
            if (::chmod(path.c_str(), 0700) != 0) throw_system_error("cannot chmod " + path);
        } else if (errno != ENOENT) {
            throw_system_error("cannot stat " + path);
        } else {
            if (::mkdir(path.c_str(), 0700) != 0) throw_system_error("cannot create " + path);
            created_ = true;
        }
        std::error_code ec;
        path_ = std::filesystem::canonical(path, ec).string();
        if (ec) {
            remove();
            throw Error(ErrorCode::Io, path + ": " + ec.message());
        }
    }
    ~FreshDirectory() {
        if (!kept_) remove();
    }
    FreshDirectory(const FreshDirectory&) = delete;
    FreshDirectory& operator=(const FreshDirectory&) = delete;

    void keep() { kept_ = true; }
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& relative) const { return path_ + "/" + relative; }

  private:
    void remove() noexcept {
        if (path_.empty()) return;
        std::error_code ec;
        if (created_) {
            std::filesystem::remove_all(path_, ec);
            return;
        }
        try {
            for (const auto& name : directory_entries(path_))
                std::filesystem::remove_all(path_ + "/" + name, ec);
        } catch (const Error&) {
        }
    }

    std::string path_;
    bool created_ = false;
    bool kept_ = false;
};

void make_private_directory(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
        throw_system_error("cannot create " + path);
}

void fsync_file(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw_system_error("cannot open " + path);
    if (::fsync(fd.get()) != 0) throw_system_error("cannot fsync " + path);
}

// ---- files ----

// One file of the backup other than the objects, as backup.json records it.
struct FileRecord {
    std::string path;  // relative to the backup (and the site): ferry.db, ferryd.ini, keys/NAME
    std::uint64_t size = 0;
    std::string blake2b;
    mode_t mode = 0;
};

std::string mode_text(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 0777));
    return text;
}

// Copies `from` to `to` atomically with exactly `mode` (whatever the umask), hashing the bytes on
// the way. With `expected`, a size or hash that differs is Error(VerificationFailed) naming
// `from`, and nothing is left at `to`.
FileRecord copy_file(const std::string& from, const std::string& to, const std::string& relative,
                     mode_t mode, const FileRecord* expected = nullptr) {
    // O_NONBLOCK: a FIFO in place of a file is refused below rather than waited on.
    Fd in(::open(from.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (in.get() < 0) throw_system_error("cannot open " + from);
    struct stat st {};
    if (::fstat(in.get(), &st) != 0) throw_system_error("cannot stat " + from);
    if (!S_ISREG(st.st_mode)) throw Error(ErrorCode::InvalidInput, from + ": not a regular file");
    AtomicFile out(to, mode);
    if (::fchmod(out.fd(), mode) != 0) throw_system_error("cannot chmod " + to);
    ObjectHasher hasher;
    std::vector<char> buffer(1 << 16);
    FileRecord record;
    record.path = relative;
    record.mode = mode;
    for (;;) {
        const ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_system_error("cannot read " + from);
        }
        if (n == 0) break;
        hasher.update(buffer.data(), static_cast<std::size_t>(n));
        out.write(buffer.data(), static_cast<std::size_t>(n));
        record.size += static_cast<std::uint64_t>(n);
    }
    record.blake2b = hasher.finish_hex();
    if (expected != nullptr &&
        (record.blake2b != expected->blake2b || record.size != expected->size)) {
        throw Error(ErrorCode::VerificationFailed,
                    from + ": does not match " + kManifest + " (" + std::to_string(record.size) +
                        " bytes, BLAKE2b " + record.blake2b + "; recorded " +
                        std::to_string(expected->size) + " bytes, BLAKE2b " + expected->blake2b +
                        ")");
    }
    out.commit();
    return record;
}

// ---- the database ----

// A plain SQLite connection for the backup copy, which must not be switched to WAL (the
// wrapper's Database does that on open) so that the copy is one self-contained file.
class RawDatabase {
  public:
    RawDatabase(const std::string& path, int flags) : path_(path) {
        const int result = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
        if (result != SQLITE_OK) {
            const std::string message =
                db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(result);
            sqlite3_close(db_);
            db_ = nullptr;
            throw Error(ErrorCode::Io, path + ": cannot open database: " + message);
        }
        sqlite3_extended_result_codes(db_, 1);
        const int busy = sqlite3_busy_timeout(db_, 5000);
        if (busy != SQLITE_OK) fail(busy, "busy timeout");
    }
    ~RawDatabase() {
        if (db_ != nullptr) sqlite3_close_v2(db_);
    }
    RawDatabase(const RawDatabase&) = delete;
    RawDatabase& operator=(const RawDatabase&) = delete;

    sqlite3* get() const { return db_; }

    // The first column of the first row `sql` returns, as text ("" when there is no row).
    std::string query_text(const std::string& sql) {
        sqlite3_stmt* stmt = nullptr;
        int result = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
        if (result != SQLITE_OK) fail(result, sql);
        result = sqlite3_step(stmt);
        std::string value;
        if (result == SQLITE_ROW) {
            const unsigned char* text = sqlite3_column_text(stmt, 0);
            if (text != nullptr) value = reinterpret_cast<const char*>(text);
        } else if (result != SQLITE_DONE) {
            const std::string message = sqlite3_errmsg(db_);
            sqlite3_finalize(stmt);
            throw Error(ErrorCode::Io, path_ + ": " + sql + ": " + message);
        }
        result = sqlite3_finalize(stmt);
        if (result != SQLITE_OK) fail(result, sql);
        return value;
    }

    void close() {
        const int result = sqlite3_close(db_);
        if (result != SQLITE_OK) fail(result, "close");
        db_ = nullptr;
    }

    [[noreturn]] void fail(int result, const std::string& what) const {
        throw Error(ErrorCode::Io,
                    path_ + ": " + what + ": " +
                        (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(result)));
    }

  private:
    sqlite3* db_ = nullptr;
    std::string path_;
};

int parse_user_version(const std::string& text, const std::string& path) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
        text.size() > 9) {
        throw Error(ErrorCode::VerificationFailed,
                    path + ": unexpected schema version \"" + text + "\"");
    }
    return std::stoi(text);
}

void check_integrity(const std::string& verdict, const std::string& path) {
    if (verdict != "ok") {
        throw Error(ErrorCode::VerificationFailed,
                    path + ": the database fails its integrity check: " + verdict);
    }
}

// Copies the live database `source_path` into `dest_path` with SQLite's online backup API: one
// consistent snapshot, taken under a read transaction that does not block the site's writers
// (WAL). The copy is switched to a rollback journal, so it is a single file, and checked.
// Returns its schema version.
int back_up_database(const std::string& source_path, const std::string& dest_path) {
    sql::OpenOptions options;
    options.create = false;
    sql::Database source(source_path, options);
    RawDatabase dest(dest_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
    sqlite3_backup* backup = sqlite3_backup_init(dest.get(), "main", source.handle(), "main");
    if (backup == nullptr) dest.fail(sqlite3_errcode(dest.get()), "cannot start the backup");
    const auto deadline = std::chrono::steady_clock::now() + kDatabaseBusyDeadline;
    int step = SQLITE_OK;
    for (;;) {
        // -1: every page in one step, so the copy is one snapshot of the source.
        step = sqlite3_backup_step(backup, -1);
        if (step == SQLITE_DONE) break;
        const int primary = step & 0xff;
        if ((primary == SQLITE_BUSY || primary == SQLITE_LOCKED || step == SQLITE_OK) &&
            std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        break;
    }
    const int finished = sqlite3_backup_finish(backup);
    if (step != SQLITE_DONE) {
        throw Error(ErrorCode::Io, source_path +
                                       ": the database backup failed: " + sqlite3_errstr(step) +
                                       " (" + sqlite3_errmsg(dest.get()) + ")");
    }
    if (finished != SQLITE_OK) dest.fail(finished, "the database backup failed");
    const std::string mode = dest.query_text("PRAGMA journal_mode=DELETE");
    if (mode != "delete") {
        throw Error(ErrorCode::Io,
                    dest_path + ": cannot switch the copy to a rollback journal (" + mode + ")");
    }
    check_integrity(dest.query_text("PRAGMA integrity_check"), dest_path);
    const int version = parse_user_version(dest.query_text("PRAGMA user_version"), dest_path);
    dest.close();
    fsync_file(dest_path);
    return version;
}

// ---- backup.json ----

struct Manifest {
    std::string created_at;
    std::int64_t created_at_unix = 0;
    std::string source_data_dir;
    int schema_version = 0;
    std::uint64_t objects = 0;
    std::uint64_t object_bytes = 0;
    std::vector<FileRecord> files;
};

std::string utc_time(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

std::string manifest_json(const Manifest& m) {
    Poco::JSON::Object root(Poco::JSON_PRESERVE_KEY_ORDER);
    root.set("format", kFormat);
    root.set("format_version", kFormatVersion);
    root.set("created_at", m.created_at);
    root.set("created_at_unix", static_cast<Poco::Int64>(m.created_at_unix));
    root.set("source_data_dir", m.source_data_dir);
    root.set("schema_version", m.schema_version);
    Poco::JSON::Object::Ptr objects = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    objects->set("count", static_cast<Poco::UInt64>(m.objects));
    objects->set("bytes", static_cast<Poco::UInt64>(m.object_bytes));
    root.set("objects", objects);
    Poco::JSON::Array::Ptr files = new Poco::JSON::Array;
    for (const auto& f : m.files) {
        Poco::JSON::Object::Ptr file = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        file->set("path", f.path);
        file->set("size", static_cast<Poco::UInt64>(f.size));
        file->set("blake2b", f.blake2b);
        file->set("mode", mode_text(f.mode));
        files->add(file);
    }
    root.set("files", files);
    std::ostringstream out;
    root.stringify(out, 2);
    out << "\n";
    return out.str();
}

// keys/NAME with NAME a plain file name; the only other files are ferry.db and ferryd.ini.
bool is_backup_file_path(const std::string& path) {
    if (path == "ferry.db" || path == "ferryd.ini") return true;
    if (path.rfind("keys/", 0) != 0) return false;
    const std::string name = path.substr(5);
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
           json::is_printable(name) && name.size() <= 255;
}

Manifest read_manifest(const std::string& backup_dir) {
    const std::string path = backup_dir + "/" + kManifest;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno != ENOENT) throw_system_error("cannot stat " + path);
        throw Error(ErrorCode::InvalidInput,
                    path + " is missing: " + backup_dir +
                        " is not a complete ferryd backup (backup.json is written last)");
    }
    const json::FieldReader r(json::parse_object(read_small_file(path, kMaxManifestBytes), path),
                              path);
    const std::string format = r.string("format", true);
    if (format != kFormat)
        throw Error(ErrorCode::InvalidInput, r.where("format") + ": must be \"" + kFormat + "\"");
    r.integer("format_version", true, kFormatVersion, kFormatVersion);
    Manifest m;
    m.created_at = r.string("created_at", true);
    m.created_at_unix = r.integer("created_at_unix", true, 0, INT64_MAX);
    m.source_data_dir = r.string("source_data_dir", false);
    m.schema_version = static_cast<int>(r.integer("schema_version", true, 0, 1'000'000));
    const json::FieldReader objects(r.object("objects", true), path, "objects.");
    m.objects = static_cast<std::uint64_t>(objects.integer("count", true, 0, INT64_MAX));
    m.object_bytes = static_cast<std::uint64_t>(objects.integer("bytes", true, 0, INT64_MAX));
    const auto files = r.array("files", true);
    for (std::size_t i = 0; i < files->size(); ++i) {
        const std::string prefix = "files[" + std::to_string(i) + "].";
        const auto object = files->getObject(static_cast<unsigned>(i));
        if (object.isNull())
            throw Error(ErrorCode::InvalidInput, r.where("files") + ": must hold objects");
        const json::FieldReader f(object, path, prefix);
        FileRecord record;
        record.path = f.string("path", true, 300);
        if (!is_backup_file_path(record.path)) {
            throw Error(ErrorCode::InvalidInput, f.where("path") + ": \"" + record.path +
                                                     "\" is not ferry.db, ferryd.ini or keys/NAME");
        }
        for (const auto& seen : m.files) {
            if (seen.path == record.path)
                throw Error(ErrorCode::InvalidInput, f.where("path") + ": listed twice");
        }
        record.size = static_cast<std::uint64_t>(f.integer("size", true, 0, INT64_MAX));
        record.blake2b = f.string("blake2b", true, 64);
        if (!is_object_id(record.blake2b))
            throw Error(ErrorCode::InvalidInput, f.where("blake2b") + ": must be 64 hex digits");
        const std::string mode = f.string("mode", true, 4);
        if (mode.size() != 4 || mode.find_first_not_of("01234567") != std::string::npos)
            throw Error(ErrorCode::InvalidInput, f.where("mode") + ": must be octal like \"0600\"");
        record.mode = static_cast<mode_t>(std::stoul(mode, nullptr, 8) & 0777);
        m.files.push_back(record);
    }
    for (const char* required : {"ferry.db", "ferryd.ini", "keys/site.key", "keys/site.pub"}) {
        if (std::none_of(m.files.begin(), m.files.end(),
                         [&](const FileRecord& f) { return f.path == required; })) {
            throw Error(ErrorCode::InvalidInput,
                        r.where("files") + ": " + required + " is not listed");
        }
    }
    return m;
}

const FileRecord& record_for(const Manifest& m, const std::string& path) {
    for (const auto& f : m.files)
        if (f.path == path) return f;
    throw Error(ErrorCode::Internal, "no record for " + path);
}

// Objects in a backup's objects/ directory: ab/<64 hex> files; anything else (objects/tmp, a
// stray file) is not an object and is left alone. Unlike ObjectStore::list(), writes nothing.
std::vector<std::string> backup_object_ids(const std::string& objects_dir) {
    std::vector<std::string> ids;
    struct stat st {};
    if (::stat(objects_dir.c_str(), &st) != 0 && errno == ENOENT) return ids;
    for (const auto& fanout : directory_entries(objects_dir)) {
        if (fanout.size() != 2 || !is_object_id(fanout + std::string(62, '0'))) continue;
        for (const auto& name : directory_entries(objects_dir + "/" + fanout)) {
            if (is_object_id(name) && name.compare(0, 2, fanout) == 0) ids.push_back(name);
        }
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace

BackupSummary backup_site(const std::string& config_path, const std::string& backup_dir) {
    const SiteConfig config = SiteConfig::load(config_path);
    FreshDirectory target(backup_dir, "a backup");
    Manifest m;
    const std::time_t now = ::time(nullptr);
    m.created_at = utc_time(now);
    m.created_at_unix = static_cast<std::int64_t>(now);
    m.source_data_dir = config.data_dir;

    // 1. The database: the snapshot everything else must cover.
    m.schema_version = back_up_database(config.database_path(), target / "ferry.db");
    {
        struct stat st {};
        if (::stat((target / "ferry.db").c_str(), &st) != 0)
            throw_system_error("cannot stat " + (target / "ferry.db"));
        const std::string hash = hash_file(target / "ferry.db");
        m.files.push_back({"ferry.db", static_cast<std::uint64_t>(st.st_size), hash,
                           static_cast<mode_t>(st.st_mode & 0777)});
    }

    // 2. The objects: all complete ones, each re-hashed as it is copied. An object stored after
    // the snapshot is copied too; one the snapshot names is certainly there.
    {
        const ObjectStore source(config.data_dir);
        const ObjectStore copy(target.path());
        for (const auto& id : source.list()) {
            const PutResult put = copy.put_file(source.path(id), id);
            ++m.objects;
            m.object_bytes += put.size;
        }
        ::rmdir((target / "objects/tmp").c_str());  // the copy's scratch space, empty by now
        fsync_directory(target / "objects");
    }

    // 3. The site key files, modes kept.
    const std::string keys = config.data_dir + "/keys";
    make_private_directory(target / "keys");
    for (const auto& name : directory_entries(keys)) {
        const std::string from = keys + "/" + name;
        struct stat st {};
        if (::lstat(from.c_str(), &st) != 0) throw_system_error("cannot stat " + from);
        if (!S_ISREG(st.st_mode) || !is_backup_file_path("keys/" + name)) continue;
        m.files.push_back(copy_file(from, target / ("keys/" + name), "keys/" + name,
                                    static_cast<mode_t>(st.st_mode & 0777)));
    }
    fsync_directory(target / "keys");

    // 4. The configuration the site runs with.
    {
        struct stat st {};
        if (::stat(config_path.c_str(), &st) != 0) throw_system_error("cannot stat " + config_path);
        m.files.push_back(copy_file(config_path, target / "ferryd.ini", "ferryd.ini",
                                    static_cast<mode_t>(st.st_mode & 0777)));
    }

    // 5. Last: the manifest that makes the backup complete.
    const std::string manifest = manifest_json(m);
    write_file_atomically(target / kManifest, manifest, 0600);
    fsync_directory(target.path());
    target.keep();

    BackupSummary summary;
    summary.data_dir = config.data_dir;
    summary.backup_dir = target.path();
    summary.schema_version = m.schema_version;
    summary.objects = m.objects;
    summary.object_bytes = m.object_bytes;
    summary.manifest_json = manifest;
    return summary;
}

RestoreSummary restore_site(const std::string& backup_dir, const std::string& target_dir,
                            const std::optional<std::string>& listen) {
    // Everything that can be checked without writing, first.
    std::string listen_host;
    std::uint16_t listen_port = 0;
    if (listen) parse_listen_address(*listen, "--listen", listen_host, listen_port);
    const Manifest m = read_manifest(backup_dir);
    const std::string backup_config = backup_dir + "/ferryd.ini";
    {
        const std::string text = read_small_file(backup_config, kMaxConfigBytes);
        const FileRecord& recorded = record_for(m, "ferryd.ini");
        const std::string hash = hash_bytes(text.data(), text.size());
        if (hash != recorded.blake2b || text.size() != recorded.size) {
            throw Error(ErrorCode::VerificationFailed, backup_config + ": does not match " +
                                                           kManifest + " (BLAKE2b " + hash +
                                                           "; recorded " + recorded.blake2b + ")");
        }
    }
    SiteConfig config = SiteConfig::load(backup_config);
    const int known = static_cast<int>(site_migrations().size());
    if (m.schema_version > known) {
        throw Error(ErrorCode::InvalidInput,
                    backup_dir + ": the backup has schema version " +
                        std::to_string(m.schema_version) + ", newer than this ferryd knows (" +
                        std::to_string(known) + "); restore it with a newer ferryd");
    }

    FreshDirectory target(target_dir, "a restore");
    config.data_dir = target.path();
    if (listen) {
        config.listen_host = listen_host;
        config.listen_port = listen_port;
    }

    // The database, checked byte for byte against the manifest, then by SQLite.
    copy_file(backup_dir + "/ferry.db", config.database_path(), "ferry.db",
              record_for(m, "ferry.db").mode | 0600, &record_for(m, "ferry.db"));
    {
        sql::OpenOptions options;
        options.create = false;
        sql::Database db(config.database_path(), options);
        sql::Statement check = db.prepare("PRAGMA integrity_check");
        check_integrity(check.step() ? check.column_text(0) : "", config.database_path());
        const int version = db.user_version();
        if (version != m.schema_version) {
            throw Error(ErrorCode::VerificationFailed,
                        backup_dir + "/ferry.db: schema version " + std::to_string(version) +
                            ", but " + kManifest + " records " + std::to_string(m.schema_version));
        }
    }

    // The keys, modes as recorded.
    make_private_directory(target / "keys");
    for (const auto& f : m.files) {
        if (f.path.rfind("keys/", 0) != 0) continue;
        // Never group- or world-writable; the secret key readable by its owner only.
        const mode_t mode = f.path == "keys/site.key" ? mode_t{0600} : (f.mode & 0755);
        copy_file(backup_dir + "/" + f.path, target / f.path, f.path, mode, &f);
    }
    fsync_directory(target / "keys");

    // The objects: each one re-hashed against its name as it is stored.
    RestoreSummary summary;
    {
        const ObjectStore store(target.path());
        for (const auto& id : backup_object_ids(backup_dir + "/objects")) {
            const std::string from = backup_dir + "/objects/" + id.substr(0, 2) + "/" + id;
            const PutResult put = store.put_file(from, id);
            ++summary.objects;
            summary.object_bytes += put.size;
        }
    }
    if (summary.objects != m.objects || summary.object_bytes != m.object_bytes) {
        throw Error(ErrorCode::VerificationFailed,
                    backup_dir + "/objects: holds " + std::to_string(summary.objects) +
                        " objects (" + std::to_string(summary.object_bytes) + " bytes), but " +
                        kManifest + " records " + std::to_string(m.objects) + " (" +
                        std::to_string(m.object_bytes) + " bytes)");
    }

    // Last: ferryd.ini, which makes the directory a site.
    const std::string config_path = target / "ferryd.ini";
    write_file_atomically(config_path, config.to_ini(), 0600);
    fsync_directory(target.path());
    target.keep();

    summary.config_path = config_path;
    summary.listen =
        (config.listen_host.find(':') != std::string::npos ? "[" + config.listen_host + "]"
                                                           : config.listen_host) +
        ":" + std::to_string(config.listen_port);
    summary.schema_version = m.schema_version;
    return summary;
}

}  // namespace ferry::server
