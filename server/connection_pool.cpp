#include "connection_pool.h"

#include <sqlite3.h>

namespace ferry::server {

ConnectionPool::ConnectionPool(std::string path, std::size_t max_idle, bool checkpoint_on_commit)
    : path_(std::move(path)), max_idle_(max_idle), checkpoint_on_commit_(checkpoint_on_commit) {}

ConnectionPool::Lease ConnectionPool::acquire() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!idle_.empty()) {
            auto db = std::move(idle_.back());
            idle_.pop_back();
            return Lease(*this, std::move(db));
        }
    }
    sql::OpenOptions options;
    options.create = false;
    options.checkpoint_on_commit = checkpoint_on_commit_;
    return Lease(*this, std::make_unique<sql::Database>(path_, options));
}

void ConnectionPool::give_back(std::unique_ptr<sql::Database> db) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(db));
}

ConnectionPool::Lease::~Lease() {
    // A connection left inside a transaction (a bug elsewhere) is closed, not reused.
    if (pool_ && db_ && sqlite3_get_autocommit(db_->handle()) != 0)
        pool_->give_back(std::move(db_));
}

}  // namespace ferry::server
