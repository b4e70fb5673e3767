// WalCheckpointer: copies the site database's write-ahead log back into the database file,
// once a second, on a thread of its own.
//
// SQLite's default runs that checkpoint inside whichever commit crosses 1,000 pages of log:
// the request that happened to commit then also wrote megabytes and waited for two fsyncs — an
// inventory report holding the inventory writer meanwhile, or an admin creating a collection
// whose 100,000 members dirtied 20 MiB of pages. ferryd's request connections therefore do
// not checkpoint (sql::OpenOptions::checkpoint_on_commit), and this does it in the background:
// PASSIVE, so it never waits for or holds up a reader or a writer. Once everything in the log
// has been copied and no reader needs it, the next writer starts the log from its beginning;
// under a steady stream of writes that moment never comes, so past kRestartFrames a RESTART
// checkpoint makes it come (see restart()).
#pragma once

#include <mutex>
#include <string>

#include "ferry/sqlite.h"
#include "periodic_thread.h"

namespace ferry::server {

class WalCheckpointer {
  public:
    // About 64 MiB of log (4 KiB pages): past it, the log is started again (see restart()).
    static constexpr int kRestartFrames = 16384;
    static constexpr int kRestartWaitMs = 100;

    // `restart_frames`: past this many frames of log, a RESTART checkpoint (see restart()).
    explicit WalCheckpointer(std::string database_path, int restart_frames = kRestartFrames);
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    void start();
    // Ends the thread, then checkpoints once more (when it was started).
    void stop();
    // One PASSIVE checkpoint now; the log frames still not copied (0: all of them).
    int checkpoint();

  private:
    static void restart(sql::Database& db, int& log_frames, int& copied);
    static void run(sql::Database& db, int mode, int& log_frames, int& copied);

    std::string database_path_;
    int restart_frames_;
    std::mutex checkpoint_mutex_;  // one checkpoint at a time
    bool started_ = false;
    PeriodicThread thread_{std::chrono::seconds(1), [this] { checkpoint(); }};
};

}  // namespace ferry::server
