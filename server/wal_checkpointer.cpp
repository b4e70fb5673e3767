#include "wal_checkpointer.h"

#include <sqlite3.h>

#include <utility>

#include "fault_log.h"
#include "ferry/error.h"
#include "ferry/sqlite.h"

namespace ferry::server {

WalCheckpointer::WalCheckpointer(std::string database_path, int restart_frames)
    : database_path_(std::move(database_path)), restart_frames_(restart_frames) {}

WalCheckpointer::~WalCheckpointer() { stop(); }

void WalCheckpointer::start() {
    started_ = true;
    thread_.start();
}

void WalCheckpointer::stop() {
    thread_.stop();
    if (std::exchange(started_, false)) checkpoint();
}

// Under a steady stream of writes a PASSIVE checkpoint never finds the log fully copied at
// the moment it looks (a report has committed meanwhile), so the log is never started again
// from its beginning and grows for as long as the stream lasts: hundreds of MiB during a round
// of inventory reports, and every page read looks through more of the log's index. Past
// kRestartFrames, a RESTART checkpoint copies the rest and has the next writer start the log
// again. It holds new writers back while it copies about a second's worth of frames; if a
// reader or writer is still busy after a short wait it gives up until the next second.
void WalCheckpointer::restart(sql::Database& db, int& log_frames, int& copied) {
    sqlite3_busy_timeout(db.handle(), kRestartWaitMs);
    run(db, SQLITE_CHECKPOINT_RESTART, log_frames, copied);
}

// One checkpoint in `mode`; "busy" (another checkpoint, or readers and writers still at work)
// is not a fault: the next second tries again.
void WalCheckpointer::run(sql::Database& db, int mode, int& log_frames, int& copied) {
    const int result = sqlite3_wal_checkpoint_v2(db.handle(), nullptr, mode, &log_frames, &copied);
    if (result != SQLITE_OK && result != SQLITE_BUSY)
        throw Error(ErrorCode::Io, std::string("checkpoint: ") + sqlite3_errstr(result));
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
        run(db, SQLITE_CHECKPOINT_PASSIVE, log_frames, copied);
        if (log_frames > restart_frames_) restart(db, log_frames, copied);
        return log_frames > copied ? log_frames - copied : 0;
    } catch (const std::exception& e) {
        log_fault("warning", "write-ahead log not checkpointed", e.what());
        return -1;
    }
}

}  // namespace ferry::server
