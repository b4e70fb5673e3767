// A small RAII layer over SQLite for Ferry's stores.
//
// Database opens a file with the settings every Ferry store relies on: WAL journal, foreign
// keys enforced, synchronous=NORMAL (durable across process crashes, and across power loss up
// to the last checkpointed transaction), and a busy timeout so that concurrent writers wait
// instead of failing. Statements are prepared once and bound by index; every SQLite result code
// is checked and a failure throws ferry::Error naming the operation, SQLite's message and the
// statement. Values are only ever bound, never spliced into SQL text.
//
// Thread-safety: a Database and its Statements belong to one thread at a time (SQLite's
// multi-thread mode); use one Database per thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace ferry::sql {

class Database;

class Statement {
  public:
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    // Parameters are numbered from 1, as in SQL ("?1", or "?" in order). Return *this.
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
    Statement& bind_blob(int index, const void* data, std::size_t size);
    Statement& bind_null(int index);
    template <typename T>
    Statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind_null(index);
    }

    // Advances; true while a row is available. Throws on any error, including constraint
    // violations (Error(AlreadyExists) for UNIQUE/PRIMARY KEY, Error(InvalidInput) for others).
    bool step();
    // Steps a statement that returns no rows.
    void run();
    // Back to the start, bindings cleared, ready to reuse.
    void reset();

    std::int64_t column_int64(int column) const;
    double column_double(int column) const;
    std::string column_text(int column) const;
    // The same text without a copy, in SQLite's buffer: valid until the next step or reset
    // (for comparing many rows against what is in memory).
    std::string_view column_view(int column) const;
    std::vector<std::uint8_t> column_blob(int column) const;
    bool column_is_null(int column) const;
    int column_count() const;

  private:
    friend class Database;
    Statement(Database& db, sqlite3_stmt* stmt, std::string sql);
    void check_bind(int result, int index);

    Database* db_;
    sqlite3_stmt* stmt_;
    std::string sql_;
};

// One step of a schema: migrations are numbered 1, 2, … by their position; the database's
// user_version records how many have been applied.
struct Migration {
    std::string description;
    std::string sql;
};

struct OpenOptions {
    int busy_timeout_ms = 5000;
    bool create = true;
    // false: this connection's commits never checkpoint the write-ahead log (SQLite's default
    // runs one, with its fsyncs, inside the commit that crosses 1,000 pages); the program runs
    // checkpoints elsewhere (ferryd's site: server/wal_checkpointer.h).
    bool checkpoint_on_commit = true;
};

class Database {
  public:
    // Opens `path` (":memory:" for a private in-memory database). Error(NotFound) when it does
    // not exist and `create` is false; Error(Io) when it cannot be opened.
    explicit Database(const std::string& path, const OpenOptions& options = {});
    Database(Database&& other) noexcept;
    Database& operator=(Database&& other) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    Statement prepare(const std::string& sql);
    // A statement prepared once per connection and kept, for hot paths (an idle policy poll,
    // an inventory report's collection queries). The guard resets it when it goes out of scope:
    // a statement left mid-result would hold its read snapshot open across requests. One user
    // at a time. At most kMaxCachedStatements are kept: past that, those not in use are
    // finalized (texts that vary, like collection queries, come and go).
    struct CacheSlot {
        std::unique_ptr<Statement> statement;
        bool in_use = false;
    };
    class CachedStatement {
      public:
        explicit CachedStatement(CacheSlot& slot) : slot_(&slot) { slot.in_use = true; }
        CachedStatement(const CachedStatement&) = delete;
        CachedStatement& operator=(const CachedStatement&) = delete;
        ~CachedStatement() {
            slot_->statement->reset();
            slot_->in_use = false;
        }
        Statement* operator->() const { return slot_->statement.get(); }
        Statement& operator*() const { return *slot_->statement; }

      private:
        CacheSlot* slot_;
    };
    static constexpr std::size_t kMaxCachedStatements = 256;
    CachedStatement cached(const std::string& sql);
    std::size_t cached_count() const { return cache_.size(); }
    // Runs one or more statements without parameters (schema, pragmas).
    void exec(const std::string& sql);

    // Applies the migrations not yet applied, each in its own transaction together with the new
    // user_version, so a failure leaves the schema at the last complete step. Refuses a
    // database whose user_version is newer than `migrations` knows (made by a newer Ferry).
    // Returns the number applied.
    int migrate(const std::vector<Migration>& migrations);
    int user_version();

    std::int64_t last_insert_rowid() const;
    int changes() const;

    const std::string& path() const { return path_; }
    sqlite3* handle() const { return db_; }

    // Throws the Error for `result` (not SQLITE_OK/ROW/DONE), naming `what` and `sql`.
    [[noreturn]] void fail(int result, const std::string& what, const std::string& sql = "") const;

  private:
    sqlite3* db_ = nullptr;
    std::string path_;
    std::map<std::string, CacheSlot> cache_;  // nodes stay put: guards point into them
};

// BEGIN IMMEDIATE … COMMIT, rolled back if destroyed before commit() (an exception, an early
// return). IMMEDIATE takes the write lock at the start, so two writers never deadlock halfway.
// Inside an open transaction it is a savepoint: committed or rolled back with the outer one.
class Transaction {
  public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void commit();

  private:
    Database& db_;
    bool nested_;  // a savepoint inside an open transaction
    bool done_ = false;
};

// BEGIN … COMMIT for reading: the statements run inside see one snapshot of the database, as
// of the first read, however many commits other connections make meanwhile. It takes no lock
// that a writer waits for (in WAL mode). Inside an open transaction it does nothing: that one
// already reads one snapshot.
class ReadTransaction {
  public:
    explicit ReadTransaction(Database& db);
    ~ReadTransaction();
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;

  private:
    Database& db_;
    bool outer_;  // this one began the transaction, so ends it
};

}  // namespace ferry::sql
