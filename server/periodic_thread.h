// PeriodicThread: a thread that runs one task at a fixed interval until stopped, and wakes at
// once when stopped (a shutdown never waits out the interval). For ferryd's small background
// chores: writing last contacts, checkpointing the write-ahead log.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace ferry::server {

class PeriodicThread {
  public:
    PeriodicThread(std::chrono::milliseconds interval, std::function<void()> task);
    ~PeriodicThread();
    PeriodicThread(const PeriodicThread&) = delete;
    PeriodicThread& operator=(const PeriodicThread&) = delete;

    void start();
    // Wakes the thread and waits for it to end; the task is not run again. Idempotent.
    void stop();

  private:
    void run();
    const std::chrono::milliseconds interval_;
    const std::function<void()> task_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace ferry::server
