#include "inventory_writer.h"

namespace ferry::server {

namespace {
// About 8 MiB of pages: the tree's upper levels and the last reports' leaves stay in memory.
constexpr int kCachePages = 2048;
}  // namespace

InventoryWriter::InventoryWriter(std::string database_path)
    : database_path_(std::move(database_path)) {}

bool InventoryWriter::write(const std::function<bool(sql::Database&)>& write) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!db_) {
        sql::OpenOptions options;
        options.create = false;
        options.checkpoint_on_commit = false;  // WalCheckpointer's work, not a report's
        auto db = std::make_unique<sql::Database>(database_path_, options);
        db->exec("PRAGMA cache_size=" + std::to_string(kCachePages));
        db_ = std::move(db);
    }
    return write(*db_);
}

}  // namespace ferry::server
