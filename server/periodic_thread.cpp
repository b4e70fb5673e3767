#include "periodic_thread.h"

namespace ferry::server {

PeriodicThread::PeriodicThread(std::chrono::milliseconds interval, std::function<void()> task)
    : interval_(interval), task_(std::move(task)) {}

PeriodicThread::~PeriodicThread() { stop(); }

void PeriodicThread::start() {
    thread_ = std::thread([this] { run(); });
}

void PeriodicThread::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void PeriodicThread::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, interval_, [this] { return stopping_; });
        if (stopping_) break;
        lock.unlock();
        task_();
        lock.lock();
    }
}

}  // namespace ferry::server
