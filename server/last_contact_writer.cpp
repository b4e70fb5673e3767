#include "last_contact_writer.h"

#include <vector>

#include "fault_log.h"
#include "ferry/sqlite.h"

namespace ferry::server {

LastContactWriter::LastContactWriter(std::string database_path)
    : database_path_(std::move(database_path)) {}

LastContactWriter::~LastContactWriter() { stop(); }

void LastContactWriter::start() { thread_.start(); }

void LastContactWriter::stop() {
    thread_.stop();
    flush();
}

void LastContactWriter::note(std::int64_t client_id, std::int64_t at) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& latest = noted_[client_id];
    if (at > latest) latest = at;
}

void LastContactWriter::flush() {
    std::lock_guard<std::mutex> one_at_a_time(flush_mutex_);
    std::unordered_map<std::int64_t, std::int64_t> batch;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        batch.swap(noted_);
    }
    if (batch.empty()) return;
    try {
        sql::OpenOptions options;
        options.create = false;
        options.checkpoint_on_commit = false;
        sql::Database db(database_path_, options);
        sql::Transaction transaction(db);
        // Never moves a contact back (a handler may have written a later one meanwhile).
        sql::Statement update = db.prepare(
            "UPDATE client SET last_seen_at = ?1 WHERE id = ?2 AND "
            "(last_seen_at IS NULL OR last_seen_at < ?1)");
        for (const auto& [client_id, at] : batch) {
            update.bind(1, at).bind(2, client_id).run();
            update.reset();
        }
        transaction.commit();
    } catch (const std::exception& e) {
        // Kept for the next round rather than lost; a later contact wins when both exist.
        log_fault("warning", "last contact not written yet", e.what(), "clients", batch.size());
        for (const auto& [client_id, at] : batch) note(client_id, at);
    }
}

}  // namespace ferry::server
