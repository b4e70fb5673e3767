#include "background_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace ferry::test {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv) {
    char pattern[] = "/tmp/ferry-test-stderr-XXXXXX";
    const int err_fd = ::mkstemp(pattern);
    if (err_fd < 0) throw std::runtime_error("mkstemp failed");
    stderr_path_ = pattern;
    int out_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::dup2(out_pipe[1], 1);
        ::dup2(err_fd, 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(err_fd);
    ::close(out_pipe[1]);
    stdout_fd_ = out_pipe[0];
}

BackgroundProcess::~BackgroundProcess() {
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    ::unlink(stderr_path_.c_str());
}

std::string BackgroundProcess::wait_for_line(const std::string& needle,
                                             std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        for (auto newline = buffer_.find('\n'); newline != std::string::npos;
             newline = buffer_.find('\n')) {
            const std::string line = buffer_.substr(0, newline);
            buffer_.erase(0, newline + 1);
            if (line.find(needle) != std::string::npos) return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            throw std::runtime_error("timed out waiting for \"" + needle +
                                     "\"; stderr: " + slurp(stderr_path_));
        }
        pollfd pfd{stdout_fd_, POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
        char chunk[4096];
        const ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
        if (n <= 0)
            throw std::runtime_error("process closed stdout before \"" + needle +
                                     "\"; stderr: " + slurp(stderr_path_));
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

void BackgroundProcess::signal(int signal_number) {
    if (!reaped_) ::kill(pid_, signal_number);
}

int BackgroundProcess::wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!reaped_) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            break;
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("process did not exit in time");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return exit_code_;
}

}  // namespace ferry::test
