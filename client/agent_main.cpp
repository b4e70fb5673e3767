// ferry-agent: the workstation agent (DESIGN §8, docs/agent.md).
//
// main parses the command line and routes: `enroll` talks to the site once; `run` is the
// daemon (or one cycle with --once); every other command goes to the running daemon through
// the control socket, or, when no daemon runs, acts on the state directly under the same lock.
// Exit codes: 0 done, 1 refused or failed, 2 usage or input error.
#include <Poco/URI.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "agent.h"
#include "control_socket.h"
#include "ferry/command_line.h"
#include "ferry/error.h"
#include "ferry/minisign.h"

namespace ferry::agent {
namespace {

const char* const kUsage =
    "usage: ferry-agent COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  enroll --server URL --secret S [--hostname H] [--site-key KEY]\n"
    "                                                  enrol with a site, pin its key (KEY: the\n"
    "                                                  site.pub file or its base64 line)\n"
    "  run [--once] [--interval SECONDS] [--cache-limit SIZE]\n"
    "                                                  the daemon (or one cycle); SIZE e.g. 2G\n"
    "  status                                          enrolment, policy, outbox, journal\n"
    "  list                                            advertisements and installed packages\n"
    "  install ADV                                     start an advertisement now\n"
    "  postpone ADV [--for DURATION]                   postpone (30m, 2h, 1d; default 1h)\n"
    "  rollback PACKAGE                                back to the previous version\n"
    "  inventory [--json]                              what would be reported\n"
    "\n"
    "options of every command:\n"
    "  --state-dir DIR   the agent's state (default /var/lib/ferry-agent)\n"
    "  --root DIR        where packages are installed (default /opt/ferry)\n"
    "\n"
    "docs/agent.md describes states, files, the scripts' environment and the log.\n";

std::int64_t wall_clock() { return static_cast<std::int64_t>(std::time(nullptr)); }

void log_line(const std::string& line) {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::cerr << stamp << " ferry-agent: " << line << std::endl;
}

// "90", "90s", "30m", "2h", "1d" → seconds. UsageError otherwise.
std::int64_t parse_duration(const std::string& text) {
    std::size_t used = 0;
    long long value = 0;
    try {
        value = std::stoll(text, &used);
    } catch (const std::exception&) {
        throw UsageError("--for \"" + text + "\": expected a duration such as 30m, 2h or 1d");
    }
    const std::string unit = text.substr(used);
    const long long scale = unit.empty() || unit == "s" ? 1
                            : unit == "m"               ? 60
                            : unit == "h"               ? 3600
                            : unit == "d"               ? 86400
                                                        : 0;
    if (scale == 0 || value <= 0 || value > 3650LL * 86400 / scale)
        throw UsageError("--for \"" + text + "\": expected a duration such as 30m, 2h or 1d");
    return value * scale;
}

// A whole number in [1, max] from an option, or a UsageError naming the option.
std::int64_t parse_count(const std::string& option, const std::string& text, std::int64_t max) {
    return whole_number(option, text, 1, max);
}

// "512M", "2G", "1048576" → bytes.
std::uint64_t parse_size(const std::string& text) {
    const char unit = text.empty() ? '\0' : text.back();
    const int shift = unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : unit == 'T' ? 40 : 0;
    const std::string digits = shift ? text.substr(0, text.size() - 1) : text;
    try {
        return static_cast<std::uint64_t>(
                   parse_count("--cache-limit", digits, (1LL << 50) >> shift))
               << shift;
    } catch (const UsageError&) {
        throw UsageError("--cache-limit \"" + text +
                         "\": expected a size such as 1073741824, 512M or 2G");
    }
}

const std::vector<OptionSpec> kOptions = {
    {"--state-dir", "", true},   {"--root", "", true},     {"--server", "", true},
    {"--secret", "", true},      {"--hostname", "", true}, {"--once", "", false},
    {"--interval", "", true},    {"--for", "", true},      {"--json", "", false},
    {"--cache-limit", "", true}, {"--site-key", "", true},
};

// Holds the state lock: one process acts on the state at a time.
class StateLock {
  public:
    explicit StateLock(const std::string& path) {
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0) throw_system_error("cannot open the lock " + path);
        held_ = ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
    }
    ~StateLock() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool held() const { return held_; }

  private:
    int fd_ = -1;
    bool held_ = false;
};

Agent make_agent(const AgentPaths& paths, std::optional<std::uint64_t> cache_limit) {
    AgentOptions options;
    options.clock = wall_clock;
    if (cache_limit) options.cache_limit_bytes = *cache_limit;
    return Agent(paths, options, make_failover_link);
}

CommandResult run_command(Agent& agent, const ControlRequest& request) {
    if (request.command == "status") return agent.status();
    if (request.command == "list") return agent.list();
    if (request.command == "install") return agent.install_now(request.arg);
    if (request.command == "postpone") return agent.postpone(request.arg, request.seconds);
    if (request.command == "rollback") return agent.rollback(request.arg);
    if (request.command == "inventory") return agent.inventory(request.json);
    if (request.command == "cycle") {
        std::string out;
        for (const auto& line : agent.cycle()) out += line + "\n";
        return {0, out, ""};
    }
    return {2, "", "ferry-agent: unknown command " + request.command + "\n"};
}

int print(const CommandResult& result) {
    std::cout << result.out << std::flush;
    std::cerr << result.err << std::flush;
    return result.exit_code;
}

int enroll(const CommandLine& line, const AgentPaths& paths) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    const std::string hostname = line.value("--hostname").value_or(host);
    const std::string server = line.required("--server");
    std::string expected_key = line.value("--site-key").value_or("");
    if (!expected_key.empty() && std::filesystem::is_regular_file(expected_key))
        expected_key = minisign::PublicKey::load(expected_key).to_base64();
    const Poco::URI uri(server);
    const std::string server_host = uri.getHost();
    const bool loopback =
        server_host == "127.0.0.1" || server_host == "::1" || server_host == "localhost";
    if (expected_key.empty() && uri.getScheme() == "http" && !loopback)
        std::cerr << "ferry-agent: warning: enrolling over plain http:// pins whatever key the "
                     "answer carries; use https:// or --site-key to check it\n";
    const Enrolment enrolment = Agent::enroll(paths, server, line.required("--secret"), hostname,
                                              wall_clock(), expected_key);
    std::cout << "enrolled as " << enrolment.client_id << " with " << enrolment.server
              << "\nsite key pinned: " << enrolment.site_public_key << "\n";
    if (enrolment.state == "pending")
        std::cout << "the site holds this client for approval: until an admin runs `ferryctl "
                     "client approve "
                  << enrolment.client_id << "`, it gets no policy\n";
    return 0;
}

// The daemon: cycles until SIGTERM/SIGINT, waking early for the scheduler or a command.
int run_daemon(Agent& agent, const AgentPaths& paths, std::int64_t interval) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // inherited by every thread started below

    std::mutex mutex;
    std::condition_variable wake;
    bool stop = false, poked = false;
    ControlServer control(paths.socket(), [&](const ControlRequest& request) {
        std::lock_guard<std::mutex> guard(mutex);
        CommandResult result = run_command(agent, request);
        if (request.command == "status" && result.exit_code == 0)
            result.out += "daemon      running (pid " + std::to_string(::getpid()) + ")\n";
        // Only what changes the plan wakes the loop; a status read does not cost a cycle.
        if (request.command == "install" || request.command == "postpone" ||
            request.command == "rollback") {
            poked = true;
            wake.notify_all();
        }
        return result;
    });
    std::thread waiter([&] {
        int received = 0;
        sigwait(&signals, &received);
        std::lock_guard<std::mutex> guard(mutex);
        stop = true;
        wake.notify_all();
    });
    log_line("running: state " + paths.state_dir + ", root " + paths.root + ", polling every " +
             std::to_string(interval) + " s");
    std::unique_lock<std::mutex> lock(mutex);
    while (!stop) {
        try {
            for (const auto& line : agent.cycle()) log_line(line);
        } catch (const std::exception& e) {
            log_line(std::string("cycle failed: ") + e.what());
        }
        const std::int64_t next = agent.next_wakeup(interval);
        const auto wait = std::chrono::seconds(std::max<std::int64_t>(1, next - wall_clock()));
        wake.wait_for(lock, wait, [&] { return stop || poked; });
        poked = false;
    }
    lock.unlock();
    log_line("stopping");
    waiter.join();
    return 0;
}

int dispatch(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        std::cout << kUsage;
        return argc < 2 ? 2 : 0;
    }
    const std::string command = argv[1];
    const std::size_t positional =
        command == "install" || command == "postpone" || command == "rollback" ? 1 : 0;
    const CommandLine line(argc, argv, 2, kOptions, positional);
    if (line.help()) {
        std::cout << kUsage;
        return 0;
    }
    const AgentPaths paths(line.value("--state-dir").value_or(kDefaultStateDir),
                           line.value("--root").value_or(kDefaultRoot));
    if (command == "enroll") return enroll(line, paths);

    ControlRequest request;
    request.command = command == "run" ? "cycle" : command;
    if (positional) request.arg = line.positional()[0];
    if (const auto duration = line.value("--for")) request.seconds = parse_duration(*duration);
    request.json = line.flag("--json");
    if (command != "run" && command != "status" && command != "list" && command != "install" &&
        command != "postpone" && command != "rollback" && command != "inventory")
        throw UsageError("unknown command \"" + command + "\"");
    const std::int64_t interval =
        parse_count("--interval", line.value("--interval").value_or("60"), 86400);
    std::optional<std::uint64_t> cache_limit;
    if (const auto size = line.value("--cache-limit")) cache_limit = parse_size(*size);

    if (::access(paths.state_dir.c_str(), R_OK | X_OK) != 0 && errno == EACCES)
        throw Error(ErrorCode::Forbidden, "only root may use ferry-agent: " + paths.state_dir +
                                              " is not readable by you");
    if (!std::filesystem::exists(paths.database()))
        throw Error(ErrorCode::NotFound, "no agent state in " + paths.state_dir +
                                             ": run ferry-agent enroll --server URL --secret S");
    if (command != "run" || line.flag("--once")) {
        if (auto answer = ask_daemon(paths.socket(), request)) return print(*answer);
    }
    StateLock lock(paths.lock());
    if (!lock.held())
        throw Error(ErrorCode::Conflict, "another ferry-agent process is working on " +
                                             paths.state_dir + " (it holds " + paths.lock() +
                                             "); run this again when it has finished");
    Agent agent = make_agent(paths, cache_limit);
    if (command == "run" && !line.flag("--once")) return run_daemon(agent, paths, interval);
    if (command == "run") {
        for (const auto& line_text : agent.cycle()) log_line(line_text);
        return 0;
    }
    CommandResult result = run_command(agent, request);
    if (command == "status" && result.exit_code == 0) result.out += "daemon      not running\n";
    return print(result);
}

}  // namespace
}  // namespace ferry::agent

int main(int argc, char** argv) {
    ::umask(0077);               // the state holds the client token; package scripts get 022 back
    ::signal(SIGCHLD, SIG_DFL);  // inherited SIG_IGN would make every script's status unknowable
    try {
        return ferry::agent::dispatch(argc, argv);
    } catch (const ferry::UsageError& e) {
        std::cerr << "ferry-agent: " << e.what() << "\n\n" << ferry::agent::kUsage;
        return 2;
    } catch (const ferry::Error& e) {
        std::cerr << "ferry-agent: " << e.what() << "\n";
        switch (e.code()) {
            case ferry::ErrorCode::VerificationFailed:
            case ferry::ErrorCode::Unauthenticated:
            case ferry::ErrorCode::Forbidden:
            case ferry::ErrorCode::Conflict:
            case ferry::ErrorCode::UnsafeArchive:
            case ferry::ErrorCode::LimitExceeded:
                return 1;
            default:
                return 2;
        }
    } catch (const std::exception& e) {
        std::cerr << "ferry-agent: " << e.what() << "\n";
        return 2;
    }
}
