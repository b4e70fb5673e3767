// PolicyWorker: ferryd's background thread that keeps policies current. It rebuilds the
// policies of dirty clients (checked several times a second, so a change reaches clients
// within a poll), renews policies before they expire, and re-evaluates every collection on a
// schedule. It has its own database connection and never blocks a request.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "site_config.h"

namespace ferry::server {

class PolicyWorker {
  public:
    // Loads the site key now, so a missing key stops ferryd at start, not later.
    explicit PolicyWorker(const SiteConfig& config);
    ~PolicyWorker();
    PolicyWorker(const PolicyWorker&) = delete;
    PolicyWorker& operator=(const PolicyWorker&) = delete;

    void start();
    void stop();

    // Collections are re-evaluated this often (inventory changes re-evaluate one client at once).
    static constexpr int kCollectionRefreshSeconds = 300;

  private:
    void run();
    SiteConfig config_;
    std::string site_key_text_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
};

}  // namespace ferry::server
