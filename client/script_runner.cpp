#include "script_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <vector>

#include "ferry/error.h"

namespace ferry::agent {

namespace {

constexpr std::size_t kLogTailBytes = 8192;
constexpr int kKillGraceSeconds = 5;

void sleep_ms(long ms) {
    timespec pause{ms / 1000, (ms % 1000) * 1'000'000};
    nanosleep(&pause, nullptr);
}

int status_code(int status) {
    if (status == -1) return -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

// Waits for `pid` until `deadline`; true with `status` set when it ended.
bool wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline, int& status) {
    while (true) {
        const pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) return true;
        if (done < 0 && errno != EINTR) {
            // Never "success" for a child we could not wait for (SIGCHLD ignored, say).
            status = -1;
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) return false;
        sleep_ms(20);
    }
}

}  // namespace

std::string file_tail(const std::string& path, long offset, std::size_t max_bytes) {
    FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) return {};
    std::fseek(file, 0, SEEK_END);
    const long end = std::ftell(file);
    long start = end - static_cast<long>(max_bytes);
    if (start < offset) start = offset;
    if (start < 0) start = 0;
    std::string tail(static_cast<std::size_t>(end - start), '\0');
    std::fseek(file, start, SEEK_SET);
    const std::size_t got = std::fread(tail.data(), 1, tail.size(), file);
    std::fclose(file);
    tail.resize(got);
    if (start > offset) {
        const auto newline = tail.find('\n');
        if (newline != std::string::npos && newline + 1 < tail.size()) tail.erase(0, newline + 1);
    }
    return tail;
}

int kill_orphans(const std::string& run_id) {
    if (run_id.empty()) return 0;
    const std::string wanted = "FERRY_RUN_ID=" + run_id;
    int killed = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream environ(entry.path() / "environ", std::ios::binary);
        std::string variable;
        while (std::getline(environ, variable, '\0')) {
            if (variable != wanted) continue;
            if (kill(static_cast<pid_t>(std::stol(name)), SIGKILL) == 0) ++killed;
            break;
        }
    }
    return killed;
}

namespace {

constexpr off_t kLogRotateBytes = 1 << 20;

// Opens the package's log for appending, rotating it to LOG.1 once it passes 1 MiB.
int open_log(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) == 0 && st.st_size > kLogRotateBytes)
        rename(path.c_str(), (path + ".1").c_str());
    const int log = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log < 0) throw_system_error("cannot open the log " + path);
    return log;
}

void write_header(int log, const std::string& title) {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const std::string line = std::string("==== ") + stamp + " " + title + "\n";
    if (write(log, line.data(), line.size()) < 0) {
        // The log is for people; a full disk must not stop the install.
    }
}

}  // namespace

ScriptResult run_script(const ScriptRun& run) {
    if (access(run.script.c_str(), X_OK) != 0) throw_system_error("cannot run " + run.script);
    const int log = open_log(run.log_file);
    if (!run.title.empty()) write_header(log, run.title);
    const long offset = lseek(log, 0, SEEK_END);

    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    std::vector<std::string> env_text;
    for (const auto& [name, value] : run.environment) env_text.push_back(name + "=" + value);
    if (!run.run_id.empty()) env_text.push_back("FERRY_RUN_ID=" + run.run_id);
    std::vector<char*> envp;
    for (auto& entry : env_text) envp.push_back(entry.data());
    envp.push_back(nullptr);
    std::string script = run.script;
    char* argv[] = {script.data(), nullptr};

    const pid_t pid = fork();
    if (pid < 0) {
        close(log);
        throw_system_error("cannot start " + run.script);
    }
    if (pid == 0) {
        setpgid(0, 0);
        // The daemon blocks SIGTERM and SIGINT in every thread (sigwait); a script starts with
        // the defaults, so that the timeout's SIGTERM reaches it and what it starts.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP}) signal(sig, SIG_DFL);
        umask(022);  // the agent keeps its own files private; a package's files are not
        const int null_in = open("/dev/null", O_RDONLY);
        if (null_in >= 0) dup2(null_in, 0);
        dup2(log, 1);
        dup2(log, 2);
        if (chdir(run.directory.c_str()) != 0) _exit(126);
        execve(argv[0], argv, envp.data());
        _exit(127);
    }
    setpgid(pid, pid);  // also from the parent: whichever runs first, the group exists
    close(log);

    ScriptResult result;
    int status = 0;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(run.timeout_seconds);
    if (!wait_until(pid, deadline, status)) {
        result.timed_out = true;
        kill(-pid, SIGTERM);
        if (!wait_until(pid,
                        std::chrono::steady_clock::now() + std::chrono::seconds(kKillGraceSeconds),
                        status)) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
    }
    kill(-pid, SIGKILL);  // whatever the script left running in its group goes with it
    result.exit_code = status_code(status);
    result.log_tail = file_tail(run.log_file, offset, kLogTailBytes);
    if (result.timed_out)
        result.log_tail += "\nferry-agent: " + run.script + " timed out after " +
                           std::to_string(run.timeout_seconds) + " s and was killed\n";
    return result;
}

}  // namespace ferry::agent
