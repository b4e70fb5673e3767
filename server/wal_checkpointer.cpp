#include "wal_checkpointer.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>

#include "ferry/error.h"
#include "ferry/sqlite.h"

namespace ferry::server {

WalCheckpointer::WalCheckpointer(std::string database_path)
    : database_path_(std::move(database_path)) {}

WalCheckpointer::~WalCheckpointer() { stop(); }

void WalCheckpointer::start() {
    thread_ = std::thread([this] { run(); });
}

void WalCheckpointer::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (!thread_.joinable()) return;
    thread_.join();
    checkpoint();
}

int WalCheckpointer::checkpoint() {
    std::lock_guard<std::mutex> one_at_a_time(checkpoint_mutex_);
    try {
        sql::OpenOptions options;
        options.create = false;
        options.checkpoint_on_commit = false;
        sql::Database db(database_path_, options);
        int log_frames = 0;
        int copied = 0;
        const int result = sqlite3_wal_checkpoint_v2(
            db.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied);
        if (result != SQLITE_OK && result != SQLITE_BUSY)
            throw Error(ErrorCode::Io, std::string("checkpoint: ") + sqlite3_errstr(result));
        return log_frames > copied ? log_frames - copied : 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr,
                     "{\"level\": \"warning\", \"msg\": \"write-ahead log not checkpointed\", "
                     "\"error\": \"%s\"}\n",
                     e.what());
        return -1;
    }
}

void WalCheckpointer::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
        if (stopping_) break;
        lock.unlock();
        checkpoint();
        lock.lock();
    }
}

}  // namespace ferry::server
