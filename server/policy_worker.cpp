#include "policy_worker.h"

#include <chrono>
#include <ctime>

#include "collection.h"
#include "fault_log.h"
#include "ferry/atomic_file.h"
#include "ferry/error.h"
#include "ferry/minisign.h"
#include "ferry/secure_buffer.h"
#include "ferry/sqlite.h"
#include "policy_builder.h"
#include "rollout.h"
#include "sqlite_collection_store.h"
#include "sqlite_policy_store.h"
#include "sqlite_rollout_store.h"

namespace ferry::server {
namespace {

std::int64_t now_seconds() { return static_cast<std::int64_t>(::time(nullptr)); }

}  // namespace

PolicyWorker::PolicyWorker(const SiteConfig& config) : config_(config) {
    // Parsed once here to fail early; kept as text for the worker thread's own key object.
    site_key_text_ = read_small_file(config_.site_key_path(), 64 << 10);
    minisign::SecretKey::parse(site_key_text_, config_.site_key_path(), []() -> std::string {
        throw Error(ErrorCode::InvalidInput, "the site key must not be password-protected");
    });
}

PolicyWorker::~PolicyWorker() {
    stop();
    wipe(site_key_text_);
}

void PolicyWorker::start() {
    thread_ = std::thread([this] { run(); });
}

void PolicyWorker::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void PolicyWorker::run() {
    const auto key = minisign::SecretKey::parse(site_key_text_, config_.site_key_path(),
                                                [] { return std::string(); });
    sql::OpenOptions options;
    options.create = false;
    std::int64_t next_refresh = 0;
    auto next_rollouts = std::chrono::steady_clock::now();
    std::unique_ptr<sql::Database> db;
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; }))
                return;
        }
        try {
            if (!db) db = std::make_unique<sql::Database>(config_.database_path(), options);
            const std::int64_t now = now_seconds();
            if (now >= next_refresh) {
                SqliteCollectionStore collections(*db);
                CollectionService(collections, now_seconds).refresh_all();
                next_refresh = now + kCollectionRefreshSeconds;
            }
            if (std::chrono::steady_clock::now() >= next_rollouts) {
                // Rollouts first, once a second (each reads every wave's counts): a wave that
                // starts now is in the policies built below.
                next_rollouts = std::chrono::steady_clock::now() + std::chrono::seconds(1);
                SqliteRolloutStore rollouts(*db);
                RolloutService(rollouts, now_seconds).tick();
            }
            SqlitePolicyStore store(*db);
            PolicyBuilder builder(store, key);
            builder.build_all_dirty(now_seconds, [this] {
                std::lock_guard<std::mutex> lock(mutex_);
                return !stopping_;
            });
        } catch (const std::exception& e) {
            log_fault("error", "policy build failed", e.what());
            db.reset();  // a fresh connection next time
        }
    }
}

}  // namespace ferry::server
