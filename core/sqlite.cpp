#include "ferry/sqlite.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>
#include <utility>

#include "ferry/error.h"

namespace ferry::sql {
namespace {

ErrorCode code_for(int result) {
    switch (result & 0xff) {
        case SQLITE_CONSTRAINT:
            return (result == SQLITE_CONSTRAINT_UNIQUE || result == SQLITE_CONSTRAINT_PRIMARYKEY)
                       ? ErrorCode::AlreadyExists
                       : ErrorCode::InvalidInput;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_IOERR:
        case SQLITE_FULL:
        case SQLITE_CANTOPEN:
        case SQLITE_READONLY:
            return ErrorCode::Io;
        default:
            return ErrorCode::Internal;
    }
}

// SQLite's memory statistics take one process-wide mutex on every allocation; with many
// request threads that lock, not the work, sets the pace. Ferry reads no memory statistics.
void configure_sqlite_once() {
    static std::once_flag once;
    std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

// Waits for a competing writer in short steps: SQLite's own handler sleeps up to 100 ms per
// retry, which leaves the database idle long after the lock is free. `arg` is the timeout in
// milliseconds.
int wait_briefly(void* arg, int attempts) {
    const long timeout_us = static_cast<long>(reinterpret_cast<std::intptr_t>(arg)) * 1000;
    constexpr int kFastAttempts = 50;  // 50 x 200 us, then 1 ms steps
    const long waited_us = attempts < kFastAttempts
                               ? attempts * 200L
                               : kFastAttempts * 200L + (attempts - kFastAttempts) * 1000L;
    if (waited_us >= timeout_us) return 0;
    ::usleep(attempts < kFastAttempts ? 200 : 1000);
    return 1;
}

}  // namespace

// ---- Database ----

Database::Database(const std::string& path, const OpenOptions& options) : path_(path) {
    configure_sqlite_once();
    if (!options.create && path != ":memory:") {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0)
            throw Error(ErrorCode::NotFound, path + ": no such database");
    }
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (options.create ? SQLITE_OPEN_CREATE : 0);
    const int result = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (result != SQLITE_OK) {
        const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(result);
        sqlite3_close(db_);
        db_ = nullptr;
        throw Error(ErrorCode::Io, path + ": cannot open database: " + message);
    }
    sqlite3_extended_result_codes(db_, 1);
    try {
        const int busy = sqlite3_busy_handler(
            db_, wait_briefly,
            reinterpret_cast<void*>(static_cast<std::intptr_t>(options.busy_timeout_ms)));
        if (busy != SQLITE_OK) fail(busy, "busy handler");
        // journal_mode answers with a row; the others are plain settings.
        Statement wal = prepare("PRAGMA journal_mode=WAL");
        if (!wal.step() || (wal.column_text(0) != "wal" && path != ":memory:")) {
            throw Error(ErrorCode::Io, path + ": the database cannot use write-ahead logging");
        }
        exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;");
        if (!options.checkpoint_on_commit) exec("PRAGMA wal_autocheckpoint=0;");
    } catch (...) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      cache_(std::move(other.cache_)) {}

Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        cache_.clear();
        if (db_ != nullptr) sqlite3_close_v2(db_);
        db_ = std::exchange(other.db_, nullptr);
        path_ = std::move(other.path_);
        cache_ = std::move(other.cache_);
    }
    return *this;
}

Database::CachedStatement Database::cached(const std::string& sql) {
    auto found = cache_.find(sql);
    if (found == cache_.end()) {
        auto statement = std::make_unique<Statement>(prepare(sql));
        if (cache_.size() >= kMaxCachedStatements) {
            for (auto it = cache_.begin(); it != cache_.end();)
                it = it->second.in_use ? std::next(it) : cache_.erase(it);
        }
        found = cache_.emplace(sql, CacheSlot{std::move(statement), false}).first;
    }
    return CachedStatement(found->second);
}

Database::~Database() {
    cache_.clear();
    // close_v2 defers the close until the last statement is finalized, so destruction order
    // between a Database and its Statements never leaks or crashes.
    if (db_ != nullptr) sqlite3_close_v2(db_);
}

void Database::fail(int result, const std::string& what, const std::string& sql) const {
    std::string message = path_ + ": " + what + ": " +
                          (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(result));
    if (!sql.empty()) message += " (in: " + sql.substr(0, 200) + ")";
    throw Error(code_for(result), message);
}

Statement Database::prepare(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int result = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                          SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (result != SQLITE_OK) fail(result, "cannot prepare a statement", sql);
    if (stmt == nullptr) throw Error(ErrorCode::Internal, "empty SQL statement");
    for (; tail != nullptr && *tail != '\0'; ++tail) {
        if (*tail != ' ' && *tail != '\n' && *tail != '\t' && *tail != ';') {
            sqlite3_finalize(stmt);
            throw Error(
                ErrorCode::Internal,
                "prepare() takes one statement; use exec() for several: " + sql.substr(0, 200));
        }
    }
    return Statement(*this, stmt, sql);
}

void Database::exec(const std::string& sql) {
    char* error = nullptr;
    const int result = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    if (result != SQLITE_OK) {
        const std::string message = error != nullptr ? error : sqlite3_errstr(result);
        sqlite3_free(error);
        throw Error(code_for(result), path_ + ": " + message + " (in: " + sql.substr(0, 200) + ")");
    }
}

int Database::user_version() {
    Statement version = prepare("PRAGMA user_version");
    version.step();
    return static_cast<int>(version.column_int64(0));
}

int Database::migrate(const std::vector<Migration>& migrations) {
    const int current = user_version();
    const int known = static_cast<int>(migrations.size());
    if (current > known) {
        throw Error(ErrorCode::InvalidInput,
                    path_ + ": the database schema is version " + std::to_string(current) +
                        ", newer than this program knows (" + std::to_string(known) +
                        "); use the Ferry release that wrote it");
    }
    for (int version = current + 1; version <= known; ++version) {
        const Migration& m = migrations[static_cast<std::size_t>(version - 1)];
        Transaction transaction(*this);
        try {
            exec(m.sql);
        } catch (const Error& e) {
            throw e.with_context("schema migration " + std::to_string(version) + " (" +
                                 m.description + ")");
        }
        // PRAGMA takes no parameters; the value is an integer this code computed.
        exec("PRAGMA user_version=" + std::to_string(version));
        transaction.commit();
    }
    return known - current;
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int Database::changes() const { return sqlite3_changes(db_); }

// ---- Statement ----

Statement::Statement(Database& db, sqlite3_stmt* stmt, std::string sql)
    : db_(&db), stmt_(stmt), sql_(std::move(sql)) {}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), sql_(std::move(other.sql_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        if (stmt_ != nullptr) sqlite3_finalize(stmt_);
        db_ = other.db_;
        stmt_ = std::exchange(other.stmt_, nullptr);
        sql_ = std::move(other.sql_);
    }
    return *this;
}

Statement::~Statement() {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

void Statement::check_bind(int result, int index) {
    if (result != SQLITE_OK)
        db_->fail(result, "cannot bind parameter " + std::to_string(index), sql_);
}

Statement& Statement::bind(int index, std::int64_t value) {
    check_bind(sqlite3_bind_int64(stmt_, index, value), index);
    return *this;
}

Statement& Statement::bind(int index, double value) {
    check_bind(sqlite3_bind_double(stmt_, index, value), index);
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    check_bind(
        sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        index);
    return *this;
}

Statement& Statement::bind_blob(int index, const void* data, std::size_t size) {
    check_bind(sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_TRANSIENT), index);
    return *this;
}

Statement& Statement::bind_null(int index) {
    check_bind(sqlite3_bind_null(stmt_, index), index);
    return *this;
}

bool Statement::step() {
    const int result = sqlite3_step(stmt_);
    if (result == SQLITE_ROW) return true;
    if (result == SQLITE_DONE) return false;
    // Leave the statement reusable after a failure (a constraint violation is an answer, not
    // the end of the statement).
    sqlite3_reset(stmt_);
    db_->fail(result, "statement failed", sql_);
}

void Statement::run() {
    if (step())
        throw Error(ErrorCode::Internal,
                    "statement returned rows where none were expected: " + sql_.substr(0, 200));
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int64(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

double Statement::column_double(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::column_text(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    const int size = sqlite3_column_bytes(stmt_, column);
    return text != nullptr ? std::string(text, static_cast<std::size_t>(size)) : std::string();
}

std::string_view Statement::column_view(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    const int size = sqlite3_column_bytes(stmt_, column);
    return text != nullptr ? std::string_view(text, static_cast<std::size_t>(size))
                           : std::string_view();
}

std::vector<std::uint8_t> Statement::column_blob(int column) const {
    const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
    const int size = sqlite3_column_bytes(stmt_, column);
    return data != nullptr ? std::vector<std::uint8_t>(data, data + size)
                           : std::vector<std::uint8_t>();
}

bool Statement::column_is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int Statement::column_count() const { return sqlite3_column_count(stmt_); }

// ---- Transaction ----

// Inside another transaction a Transaction is a savepoint, so a store's change can be part of
// a larger one (a release backout creates advertisements through their own store).
Transaction::Transaction(Database& db)
    : db_(db), nested_(sqlite3_get_autocommit(db.handle()) == 0) {
    db_.exec(nested_ ? "SAVEPOINT ferry_nested" : "BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
    if (done_) return;
    if (nested_) {
        sqlite3_exec(db_.handle(), "ROLLBACK TO ferry_nested", nullptr, nullptr, nullptr);
        sqlite3_exec(db_.handle(), "RELEASE ferry_nested", nullptr, nullptr, nullptr);
    } else {
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void Transaction::commit() {
    db_.exec(nested_ ? "RELEASE ferry_nested" : "COMMIT");
    done_ = true;
}

ReadTransaction::ReadTransaction(Database& db)
    : db_(db), outer_(sqlite3_get_autocommit(db.handle()) != 0) {
    if (outer_) db_.exec("BEGIN");
}

ReadTransaction::~ReadTransaction() {
    // Nothing was written, so nothing is lost if it cannot commit; but it must end, or the
    // connection would go on reading this snapshot.
    if (outer_ && sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace ferry::sql
