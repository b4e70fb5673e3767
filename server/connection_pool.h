// ConnectionPool: SQLite connections kept open between requests. Opening a connection costs a
// file open, the WAL index mapping and the schema parse on first use — more than answering an
// idle policy poll — so each request leases one and gives it back. A connection is used by one
// thread at a time; the pool never holds more than `max_idle` idle ones.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ferry/sqlite.h"

namespace ferry::server {

class ConnectionPool {
  public:
    // `checkpoint_on_commit`: see sql::OpenOptions.
    ConnectionPool(std::string path, std::size_t max_idle, bool checkpoint_on_commit = true);

    class Lease {
      public:
        Lease(ConnectionPool& pool, std::unique_ptr<sql::Database> db)
            : pool_(&pool), db_(std::move(db)) {}
        Lease(Lease&& other) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        Lease(const Lease&) = delete;
        ~Lease();
        sql::Database& operator*() const { return *db_; }

      private:
        ConnectionPool* pool_;
        std::unique_ptr<sql::Database> db_;
    };

    Lease acquire();

  private:
    void give_back(std::unique_ptr<sql::Database> db);
    std::string path_;
    std::size_t max_idle_;
    bool checkpoint_on_commit_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<sql::Database>> idle_;
};

}  // namespace ferry::server
