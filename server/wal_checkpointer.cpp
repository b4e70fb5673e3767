#include "wal_checkpointer.h"

#include <sqlite3.h>

#include <cstdio>
#include <utility>

#include "ferry/error.h"
#include "ferry/sqlite.h"

namespace ferry::server {

WalCheckpointer::WalCheckpointer(std::string database_path)
    : database_path_(std::move(database_path)) {}

WalCheckpointer::~WalCheckpointer() { stop(); }

void WalCheckpointer::start() {
    started_ = true;
    thread_.start();
}

void WalCheckpointer::stop() {
    thread_.stop();
    if (std::exchange(started_, false)) checkpoint();
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

}  // namespace ferry::server
