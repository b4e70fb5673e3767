// BackgroundProcess: a real program started by a test (ferryd, later ferry-agent), whose
// stdout lines can be awaited, that can be signalled, and that is killed and reaped when the
// test ends whatever happened.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace ferry::test {

class BackgroundProcess {
  public:
    explicit BackgroundProcess(const std::vector<std::string>& argv);
    ~BackgroundProcess();  // SIGKILL if still running, then reap
    BackgroundProcess(const BackgroundProcess&) = delete;
    BackgroundProcess& operator=(const BackgroundProcess&) = delete;

    // The first stdout line containing `needle`, or throws after `timeout` (the message has
    // what the process printed so far).
    std::string wait_for_line(const std::string& needle, std::chrono::milliseconds timeout);
    void signal(int signal_number);
    // The exit code, or throws after `timeout`; -1 when killed by a signal.
    int wait(std::chrono::milliseconds timeout);
    const std::string& stderr_path() const { return stderr_path_; }

  private:
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::string buffer_;
    std::string stderr_path_;
    bool reaped_ = false;
    int exit_code_ = -1;
};

}  // namespace ferry::test
