// LastContactWriter: writes clients' last contact (client.last_seen_at) in batches, off the
// request path. HttpFront's loops answer idle polls without a write of their own — a loop that
// waited for SQLite's write lock would hold up every connection it serves — and the site's
// handlers, for every request with a client token, would otherwise make a write transaction of
// their own just for it (the second write of every inventory report). Both note the contact
// here, and a thread of its own writes what was noted once a second, in one transaction. Last
// contact is kept to the minute (ClientService::authenticate), so a second's delay is within
// what it promises. Relayed reports from distribution points still write it at once.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "periodic_thread.h"

namespace ferry::server {

class LastContactWriter {
  public:
    explicit LastContactWriter(std::string database_path);
    ~LastContactWriter();
    LastContactWriter(const LastContactWriter&) = delete;
    LastContactWriter& operator=(const LastContactWriter&) = delete;

    void start();
    // Writes what is still noted, then ends the thread.
    void stop();
    // Client `client_id` was in contact at `at` (thread-safe, never blocks on the database).
    void note(std::int64_t client_id, std::int64_t at);
    // Writes what is noted now (the thread calls this every second; tests call it directly).
    void flush();

  private:
    std::string database_path_;
    std::mutex mutex_;
    std::unordered_map<std::int64_t, std::int64_t> noted_;  // client id -> latest contact
    std::mutex flush_mutex_;                                // one flush at a time
    PeriodicThread thread_{std::chrono::seconds(1), [this] { flush(); }};
};

}  // namespace ferry::server
