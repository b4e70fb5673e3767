// InventoryWriter: the one connection the site writes clients' inventory reports on, one report
// at a time.
//
// Every enrolled machine sends its inventory, and a site takes thousands of reports a minute.
// Written on the request threads' pooled connections, each report waited for SQLite's write
// lock by sleeping and retrying, and started cold: in WAL mode a connection drops its page
// cache whenever another connection has committed, so with 16 connections taking turns every
// report read the client's rows from the file again. Here a mutex hands the connection from
// one report to the next at once, and its cache keeps the pages the last reports touched (only
// the other writers — the policy worker, status reports, admins — invalidate it). Reports are
// parsed before the mutex is taken, so it is held only while the rows are written.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "ferry/sqlite.h"

namespace ferry::server {

class InventoryWriter {
  public:
    explicit InventoryWriter(std::string database_path);
    // Runs `write` with the writer's connection, alone; returns what it returns.
    bool write(const std::function<bool(sql::Database&)>& write);

  private:
    std::string database_path_;
    std::mutex mutex_;
    std::unique_ptr<sql::Database> db_;  // opened on first use
};

}  // namespace ferry::server
