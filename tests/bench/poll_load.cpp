// poll_load: an open-loop load generator of agents' idle policy polls, for
// tests/bench/bench_dp_polls.sh. Benchmark-only: not installed, not part of Ferry.
//
//   poll_load --port P --clients FILE [--host 127.0.0.1] [--path TEMPLATE] [--etag ETAG]
//             [--period 60] [--duration 120] [--connections 0] [--timeout 10] [--seed 1]
//             [--window 10] [--max-in-flight 8000] [--learn-etags]
//             [--trigger-at S --trigger COMMAND]
//             [--match TEXT]... [--seen-out FILE] [--stop-file FILE]
//
// FILE has one "UID TOKEN ETAG" line per simulated client. Every client polls once per --period
// seconds: GET TEMPLATE (with "{uid}" replaced by its uid), "Authorization: Bearer TOKEN" and
// "If-None-Match: ETAG" (or --etag for every client, for a static server with one ETag), so an
// idle poll is answered 304. The polls are spread evenly over the period in a fixed random order
// of the clients (--seed): poll j is due at start + j * period / N, whoever answers or not.
//
// Open loop, so that a server that falls behind shows it: a poll is started when it is due
// even if earlier ones are still waiting, and every latency is measured from the moment the
// poll was due, not from when it could be sent (no coordinated omission). How late the
// generator itself started each poll is reported too, so that a late generator is not
// mistaken for a slow server. Only --max-in-flight polls are open at once (file descriptors);
// past that, due polls wait and their lateness shows in both figures.
//
// --connections 0 (the default) opens a connection per poll and sends "Connection: close", as
// an agent does (ferry::ApiClient: one Poco session per request, no keep-alive between polls a
// minute apart). It closes its side after the server has closed (so that the TIME_WAIT sockets
// are the server's, not 40,000 of this machine's ephemeral ports). --connections K > 0 keeps K
// connections open instead and sends each due poll on the first idle one (a queue if none is).
//
// --learn-etags: a 200 answer's ETag becomes that client's If-None-Match from then on, as an
// agent stores the policy it received. --trigger-at S --trigger COMMAND runs COMMAND (sh -c) S
// seconds into the schedule without waiting for it, e.g. a change to every client's policy;
// the 200 answers are then timed from that moment (first_200_ms, last_200_ms).
//
// --match TEXT (repeatable) with --seen-out FILE: the first time a client's 200 answer contains
// TEXT number I (0-based, in the order given), "UID I UNIX_TIME" (wall clock, to the
// microsecond) is appended to FILE at once (flushed), so that a script can follow who has what
// while the load runs (tests/bench/bench_rollout.sh: the advertisement, then the halt).
// --stop-file FILE: once FILE exists (checked every 100 ms), no further poll is started; the
// run ends when the open ones are answered, and the figures cover the polls that were due.
//
// Prints "key=value" lines (counts, percentiles in milliseconds, rates) on stdout, and one line
// per --window seconds of the schedule on stderr. Exit 0 when it ran (whatever the answers), 2 on
// bad usage or a failure of its own.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string clients_file;
    std::string path = "/api/v1/clients/{uid}/policy";
    std::string etag;  // overrides every client's ETag when set
    double period = 60;
    double duration = 120;
    int connections = 0;  // 0: one connection per poll
    double timeout = 10;
    unsigned seed = 1;
    double window = 10;
    int max_in_flight = 8000;
    bool learn_etags = false;
    double trigger_at = -1;
    std::string trigger;
    std::vector<std::string> match;
    std::string seen_out;
    std::string stop_file;
};

[[noreturn]] void fail(const std::string& message) {
    std::fprintf(stderr, "poll_load: %s\n", message.c_str());
    std::exit(2);
}

double number(const std::string& name, const std::string& value, double min) {
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(v >= min))
        fail(name + " needs a number ≥ " + std::to_string(min));
    return v;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--learn-etags") {
            o.learn_etags = true;
            continue;
        }
        if (i + 1 >= argc)
            fail(arg + " needs a value (see the comment at the top of poll_load.cpp)");
        const std::string value = argv[++i];
        if (arg == "--host")
            o.host = value;
        else if (arg == "--port")
            o.port = static_cast<int>(number(arg, value, 1));
        else if (arg == "--clients")
            o.clients_file = value;
        else if (arg == "--path")
            o.path = value;
        else if (arg == "--etag")
            o.etag = value;
        else if (arg == "--period")
            o.period = number(arg, value, 0.001);
        else if (arg == "--duration")
            o.duration = number(arg, value, 0.001);
        else if (arg == "--connections")
            o.connections = static_cast<int>(number(arg, value, 0));
        else if (arg == "--timeout")
            o.timeout = number(arg, value, 0.1);
        else if (arg == "--seed")
            o.seed = static_cast<unsigned>(number(arg, value, 0));
        else if (arg == "--window")
            o.window = number(arg, value, 0.1);
        else if (arg == "--trigger-at")
            o.trigger_at = number(arg, value, 0);
        else if (arg == "--trigger")
            o.trigger = value;
        else if (arg == "--match")
            o.match.push_back(value);
        else if (arg == "--seen-out")
            o.seen_out = value;
        else if (arg == "--stop-file")
            o.stop_file = value;
        else if (arg == "--max-in-flight")
            o.max_in_flight = static_cast<int>(number(arg, value, 1));
        else
            fail("unknown option " + arg);
    }
    if (o.port == 0 || o.clients_file.empty()) fail("--port and --clients are required");
    if ((o.trigger_at >= 0) != !o.trigger.empty()) fail("--trigger-at and --trigger go together");
    if (o.match.empty() != o.seen_out.empty()) fail("--match and --seen-out go together");
    return o;
}

std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

double percentile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0;
    const auto at = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size()))) - 1;
    return sorted[std::min(sorted.size() - 1, at)];
}

// One poll's life, in ns since the start of the schedule; -1: did not happen.
struct Poll {
    std::int64_t due = 0;
    std::int64_t started = -1;   // connect() or, with keep-alive, the request written
    std::int64_t answered = -1;  // the whole answer read
    int status = 0;              // HTTP status, 0 if none
    const char* error = nullptr;
};

struct Connection {
    int fd = -1;
    long poll = -1;  // the poll it carries, -1 when idle
    enum class State { Connecting, Writing, Reading, Draining, Idle } state = State::Idle;
    std::string out;  // request bytes still to write
    std::size_t written = 0;
    std::string in;  // answer bytes so far
    std::int64_t drain_since = 0;
};

class Generator {
  public:
    explicit Generator(const Options& options) : o_(options) {
        load_clients();
        epoll_ = epoll_create1(EPOLL_CLOEXEC);
        timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (epoll_ < 0 || timer_ < 0) fail(std::string("epoll/timerfd: ") + std::strerror(errno));
        if (!o_.seen_out.empty()) {
            seen_file_ = std::fopen(o_.seen_out.c_str(), "a");
            if (!seen_file_) fail("cannot write " + o_.seen_out);
            seen_.assign(o_.match.size(), std::vector<bool>(requests_.size(), false));
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kTimerTag;
        epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_, &ev);
        std::memset(&address_, 0, sizeof address_);
        address_.sin_family = AF_INET;
        address_.sin_port = htons(static_cast<std::uint16_t>(o_.port));
        if (inet_pton(AF_INET, o_.host.c_str(), &address_.sin_addr) != 1)
            fail("--host must be an IPv4 address");
    }

    void run();
    void report() const;

  private:
    static constexpr std::uint64_t kTimerTag = ~0ULL;

    void load_clients() {
        std::ifstream in(o_.clients_file);
        if (!in) fail("cannot read " + o_.clients_file);
        std::string line;
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string uid, token, etag;
            if (!(fields >> uid >> token >> etag)) continue;
            uids_.push_back(uid);
            std::string path = o_.path;
            const auto at = path.find("{uid}");
            if (at != std::string::npos) path.replace(at, 5, uid);
            requests_.push_back("GET " + path + " HTTP/1.1\r\nHost: " + o_.host + ":" +
                                std::to_string(o_.port) + "\r\nAuthorization: Bearer " + token +
                                "\r\nIf-None-Match: ");
            etags_.push_back(o_.etag.empty() ? etag : o_.etag);
        }
        request_end_ = std::string("\r\nUser-Agent: poll_load\r\n") +
                       (o_.connections == 0 ? "Connection: close\r\n" : "") + "\r\n";
        new_policy_.assign(requests_.size(), false);
        if (requests_.empty()) fail(o_.clients_file + " has no \"UID TOKEN ETAG\" lines");
        order_.resize(requests_.size());
        for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
        std::mt19937 random(o_.seed);
        std::shuffle(order_.begin(), order_.end(), random);
        const double total =
            std::floor(o_.duration * static_cast<double>(requests_.size()) / o_.period);
        polls_.resize(static_cast<std::size_t>(std::max(1.0, total)));
        for (std::size_t j = 0; j < polls_.size(); ++j)
            polls_[j].due = static_cast<std::int64_t>(static_cast<double>(j) * o_.period * 1e9 /
                                                      static_cast<double>(requests_.size()));
    }

    std::size_t client_of(std::size_t j) const { return order_[j % order_.size()]; }
    std::string request_of(std::size_t j) const {
        const std::size_t client = client_of(j);
        return requests_[client] + etags_[client] + request_end_;
    }

    // --- connections ------------------------------------------------------------------------

    // A connection slot's number goes into epoll's data; slots are reused.
    std::size_t new_slot() {
        if (!free_slots_.empty()) {
            const std::size_t slot = free_slots_.back();
            free_slots_.pop_back();
            connections_[slot] = Connection{};
            return slot;
        }
        connections_.emplace_back();
        return connections_.size() - 1;
    }

    // Opens a non-blocking connection; false (and `error`) when the kernel refuses at once.
    bool open(std::size_t slot, const char** error) {
        Connection& c = connections_[slot];
        c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) {
            *error = errno == EMFILE || errno == ENFILE ? "socket: no file descriptors" : "socket";
            return false;
        }
        const int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c.fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) != 0 &&
            errno != EINPROGRESS) {
            *error = errno == EADDRNOTAVAIL  ? "connect: no local port (EADDRNOTAVAIL)"
                     : errno == ECONNREFUSED ? "connect: refused"
                                             : "connect: other";
            ::close(c.fd);
            c.fd = -1;
            return false;
        }
        c.state = Connection::State::Connecting;
        epoll_event ev{};
        ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = slot;
        epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
        ++open_;
        return true;
    }

    void close_slot(std::size_t slot) {
        Connection& c = connections_[slot];
        if (c.fd >= 0) {
            epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
            ::close(c.fd);
            --open_;
        }
        c.fd = -1;
        c.poll = -1;
        if (o_.connections == 0) free_slots_.push_back(slot);
    }

    void want(std::size_t slot, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = slot;
        epoll_ctl(epoll_, EPOLL_CTL_MOD, connections_[slot].fd, &ev);
    }

    // --- polls --------------------------------------------------------------------------------

    void finish(long j, int status, const char* error, std::int64_t t) {
        Poll& p = polls_[static_cast<std::size_t>(j)];
        if (p.answered >= 0 || p.error) return;
        if (error) {
            p.error = error;
        } else {
            p.status = status;
            p.answered = t;
        }
        --in_flight_;
    }

    void start_per_connection(long j, std::int64_t t) {
        const std::size_t slot = new_slot();
        Connection& c = connections_[slot];
        polls_[static_cast<std::size_t>(j)].started = t;
        ++in_flight_;
        const char* error = nullptr;
        if (!open(slot, &error)) {
            finish(j, 0, error, t);
            free_slots_.push_back(slot);
            return;
        }
        c.poll = j;
        c.out = request_of(static_cast<std::size_t>(j));
    }

    void send_on(std::size_t slot, long j, std::int64_t t) {
        Connection& c = connections_[slot];
        c.poll = j;
        c.out = request_of(static_cast<std::size_t>(j));
        c.written = 0;
        c.in.clear();
        polls_[static_cast<std::size_t>(j)].started = t;
        c.state = Connection::State::Writing;
        write_some(slot, t);
    }

    // Keep-alive: the first idle connection takes the oldest waiting poll.
    void dispatch_keepalive(std::int64_t t) {
        for (std::size_t slot = 0; slot < connections_.size() && !waiting_.empty(); ++slot) {
            Connection& c = connections_[slot];
            if (c.fd < 0) {
                const char* error = nullptr;
                if (!open(slot, &error)) continue;  // retried at the next dispatch
                continue;                           // sends when connected
            }
            if (c.state != Connection::State::Idle) continue;
            const long j = waiting_.front();
            waiting_.pop_front();
            send_on(slot, j, t);
        }
    }

    void write_some(std::size_t slot, std::int64_t t) {
        Connection& c = connections_[slot];
        while (c.written < c.out.size()) {
            const ssize_t n =
                ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN) {
                    want(slot, EPOLLOUT | EPOLLIN | EPOLLRDHUP);
                    return;
                }
                return broken(slot, "send", t);
            }
            c.written += static_cast<std::size_t>(n);
        }
        c.state = Connection::State::Reading;
        want(slot, EPOLLIN | EPOLLRDHUP);
    }

    // The connection failed: its poll (if any) is an error; keep-alive connections reopen.
    void broken(std::size_t slot, const char* what, std::int64_t t) {
        Connection& c = connections_[slot];
        if (c.poll >= 0) finish(c.poll, 0, what, t);
        close_slot(slot);
        if (o_.connections > 0) connections_[slot].state = Connection::State::Idle;
    }

    // Parses what was read: true when a whole answer is in.
    static bool complete(const std::string& in, int* status, bool* server_closes, std::size_t* used,
                         std::string* etag) {
        const auto end = in.find("\r\n\r\n");
        if (end == std::string::npos) return false;
        if (in.compare(0, 5, "HTTP/") != 0) {
            *status = -1;
            *used = in.size();
            return true;
        }
        const auto space = in.find(' ');
        *status = std::atoi(in.c_str() + space + 1);
        long length = -1;
        *server_closes = false;
        std::size_t at = in.find("\r\n") + 2;
        while (at < end) {
            const auto eol = in.find("\r\n", at);
            const std::string original = in.substr(at, eol - at);
            std::string line = original;
            for (auto& ch : line)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            if (line.rfind("etag:", 0) == 0) {
                *etag = original.substr(5);
                etag->erase(0, etag->find_first_not_of(' '));
            }
            if (line.rfind("content-length:", 0) == 0) length = std::atol(line.c_str() + 15);
            if (line.rfind("connection:", 0) == 0 && line.find("close") != std::string::npos)
                *server_closes = true;
            at = eol + 2;
        }
        if (*status == 304 || *status == 204 || (*status >= 100 && *status < 200)) length = 0;
        if (length < 0) return false;  // read to the end; not expected from either server
        if (in.size() < end + 4 + static_cast<std::size_t>(length)) return false;
        *used = end + 4 + static_cast<std::size_t>(length);
        return true;
    }

    void on_event(std::size_t slot, std::uint32_t events, std::int64_t t) {
        Connection& c = connections_[slot];
        if (c.fd < 0) return;
        if (c.state == Connection::State::Connecting) {
            int error = 0;
            socklen_t length = sizeof error;
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length);
            if (error != 0)
                return broken(slot, error == ECONNREFUSED ? "connect: refused" : "connect: failed",
                              t);
            if (!(events & (EPOLLOUT | EPOLLIN))) return;
            if (o_.connections == 0) {
                c.state = Connection::State::Writing;
                return write_some(slot, t);
            }
            c.state = Connection::State::Idle;
            want(slot, EPOLLIN | EPOLLRDHUP);
            return dispatch_keepalive(t);
        }
        if (c.state == Connection::State::Writing && (events & EPOLLOUT))
            return write_some(slot, t);
        if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
        char buffer[16384];
        for (;;) {
            const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
            if (n > 0) {
                if (c.state == Connection::State::Draining) continue;  // nothing more expected
                c.in.append(buffer, static_cast<std::size_t>(n));
                int status = 0;
                bool server_closes = false;
                std::size_t used = 0;
                std::string etag;
                if (c.state == Connection::State::Reading &&
                    complete(c.in, &status, &server_closes, &used, &etag)) {
                    finish(c.poll, status, status < 0 ? "not HTTP" : nullptr, t);
                    if (status == 200) {
                        const std::size_t client = client_of(static_cast<std::size_t>(c.poll));
                        new_policy_[client] = true;
                        if (o_.learn_etags && !etag.empty()) etags_[client] = etag;
                        if (seen_file_) record_matches(client, c.in, used);
                    }
                    c.poll = -1;
                    c.in.erase(0, used);
                    if (o_.connections == 0 || server_closes) {
                        // Wait for the server's FIN, so that TIME_WAIT stays on its side.
                        c.state = Connection::State::Draining;
                        c.drain_since = t;
                    } else {
                        c.state = Connection::State::Idle;
                        dispatch_keepalive(t);
                        if (connections_[slot].state != Connection::State::Idle) return;
                    }
                } else if (c.in.size() > (1 << 20)) {
                    return broken(slot, "answer too large", t);
                }
                continue;
            }
            if (n == 0) {  // the server closed
                if (c.state == Connection::State::Draining || c.state == Connection::State::Idle) {
                    close_slot(slot);
                    if (o_.connections > 0) {
                        connections_[slot].state = Connection::State::Idle;
                        dispatch_keepalive(t);
                    }
                    return;
                }
                return broken(slot, "closed before the answer", t);
            }
            if (errno == EAGAIN) return;
            if (errno == EINTR) continue;
            return broken(slot, errno == ECONNRESET ? "reset by the server" : "recv", t);
        }
    }

    // --match: the first 200 of this client whose answer holds each text, with the wall clock.
    void record_matches(std::size_t client, const std::string& in, std::size_t used) {
        timespec wall{};
        bool any = false;
        for (std::size_t i = 0; i < o_.match.size(); ++i) {
            if (seen_[i][client]) continue;
            const auto at = in.find(o_.match[i]);
            if (at == std::string::npos || at + o_.match[i].size() > used) continue;
            if (!any) clock_gettime(CLOCK_REALTIME, &wall);
            any = true;
            seen_[i][client] = true;
            std::fprintf(seen_file_, "%s %zu %lld.%06ld\n", uids_[client].c_str(), i,
                         static_cast<long long>(wall.tv_sec), wall.tv_nsec / 1000);
        }
        if (any) std::fflush(seen_file_);
    }

    // Polls open too long are errors; drained connections the server left open are closed.
    void sweep(std::int64_t t) {
        const auto limit = static_cast<std::int64_t>(o_.timeout * 1e9);
        for (std::size_t slot = 0; slot < connections_.size(); ++slot) {
            Connection& c = connections_[slot];
            if (c.fd < 0) continue;
            if (c.poll >= 0 && t - polls_[static_cast<std::size_t>(c.poll)].due > limit) {
                broken(slot, "timeout", t);
            } else if (c.state == Connection::State::Draining && t - c.drain_since > 1000000000LL) {
                close_slot(slot);
                if (o_.connections > 0) connections_[slot].state = Connection::State::Idle;
            }
        }
        while (!waiting_.empty() &&
               t - polls_[static_cast<std::size_t>(waiting_.front())].due > limit) {
            const long j = waiting_.front();
            waiting_.pop_front();
            polls_[static_cast<std::size_t>(j)].started = -1;
            finish(j, 0, "timeout (never sent)", t);
        }
    }

    void arm_timer(std::int64_t at_ns) {
        itimerspec spec{};
        const std::int64_t absolute = start_ + at_ns;
        spec.it_value.tv_sec = absolute / 1000000000LL;
        spec.it_value.tv_nsec = absolute % 1000000000LL;
        timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr);
    }

    // One --window of the schedule: its polls and how they fared (on stderr, after the run).
    void window_line(std::size_t w) const {
        const std::int64_t from =
            static_cast<std::int64_t>(static_cast<double>(w) * o_.window * 1e9);
        const std::int64_t to =
            static_cast<std::int64_t>(static_cast<double>(w + 1) * o_.window * 1e9);
        long due = 0, ok = 0, bad = 0;
        std::vector<double> latency;
        for (const auto& p : polls_) {
            if (p.due < from || p.due >= to) continue;
            ++due;
            if (p.answered >= 0) {
                ++ok;
                latency.push_back(static_cast<double>(p.answered - p.due) / 1e6);
            } else if (p.error) {
                ++bad;
            }
        }
        std::sort(latency.begin(), latency.end());
        std::fprintf(stderr,
                     "poll_load: %6.0f-%4.0f s: %ld due, %ld answered, %ld failed, latency p50 "
                     "%.2f ms p99 %.2f ms max %.2f ms\n",
                     static_cast<double>(from) / 1e9, static_cast<double>(to) / 1e9, due, ok, bad,
                     percentile(latency, 0.5), percentile(latency, 0.99),
                     latency.empty() ? 0.0 : latency.back());
    }

    Options o_;
    std::vector<std::string> requests_;  // each client's request up to its ETag
    std::vector<std::string> etags_;     // what each client sends in If-None-Match
    std::vector<std::string> uids_;
    std::vector<std::vector<bool>> seen_;  // --match: [text][client] seen in a 200
    std::FILE* seen_file_ = nullptr;
    std::string request_end_;
    std::vector<bool> new_policy_;  // the client got a 200
    std::vector<std::size_t> order_;
    std::vector<Poll> polls_;
    std::vector<Connection> connections_;
    std::vector<std::size_t> free_slots_;
    std::deque<long> waiting_;  // keep-alive: due polls with no idle connection yet
    sockaddr_in address_{};
    int epoll_ = -1, timer_ = -1;
    std::int64_t start_ = 0;
    long in_flight_ = 0;
    long open_ = 0;
    long max_in_flight_seen_ = 0;
    long deferred_ = 0;            // due polls held back by --max-in-flight
    std::int64_t triggered_ = -1;  // when --trigger ran
    int trigger_status_ = -1;
    pid_t trigger_pid_ = -1;
    double wall_s_ = 0;
    double cpu_s_ = 0;
};

void Generator::run() {
    start_ = now_ns() + 200000000LL;  // a little time to settle
    std::size_t next = 0;             // the next poll to start
    long last_deferred = -1;
    std::int64_t last_sweep = 0;
    std::int64_t end = polls_.back().due;
    const auto limit = static_cast<std::int64_t>(o_.timeout * 1e9);
    if (o_.connections > 0) {
        connections_.resize(static_cast<std::size_t>(o_.connections));
        for (std::size_t slot = 0; slot < connections_.size(); ++slot) {
            const char* error = nullptr;
            if (!open(slot, &error)) fail(std::string("cannot connect: ") + error);
        }
    }
    std::vector<epoll_event> events(1024);
    for (;;) {
        std::int64_t t = now_ns() - start_;
        // Every poll that is due now starts now, however many are still open (up to the cap).
        bool capped = false;
        while (next < polls_.size() && polls_[next].due <= t) {
            if (in_flight_ >= o_.max_in_flight) {
                if (static_cast<long>(next) != last_deferred) ++deferred_;
                last_deferred = static_cast<long>(next);
                capped = true;
                break;
            }
            if (o_.connections == 0) {
                start_per_connection(static_cast<long>(next), t);
            } else {
                ++in_flight_;
                waiting_.push_back(static_cast<long>(next));
            }
            ++next;
            t = now_ns() - start_;
        }
        if (o_.connections > 0) dispatch_keepalive(t);
        if (o_.trigger_at >= 0 && triggered_ < 0 &&
            t >= static_cast<std::int64_t>(o_.trigger_at * 1e9)) {
            // Its output would mix with the key=value lines: stdout goes to stderr.
            const char* argv[] = {"sh", "-c", o_.trigger.c_str(), nullptr};
            posix_spawn_file_actions_t actions;
            posix_spawn_file_actions_init(&actions);
            posix_spawn_file_actions_adddup2(&actions, 2, 1);
            const int spawned = posix_spawn(&trigger_pid_, "/bin/sh", &actions, nullptr,
                                            const_cast<char* const*>(argv), environ);
            posix_spawn_file_actions_destroy(&actions);
            if (spawned != 0) fail("cannot run --trigger");
            triggered_ = t;
        }
        if (trigger_pid_ > 0) {
            int status = 0;
            if (waitpid(trigger_pid_, &status, WNOHANG) == trigger_pid_) {
                trigger_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
                trigger_pid_ = -1;
            }
        }
        max_in_flight_seen_ = std::max(max_in_flight_seen_, in_flight_);
        if (t - last_sweep > 100000000LL) {
            sweep(t);
            last_sweep = t;
            if (!o_.stop_file.empty() && next < polls_.size() && next > 0 &&
                ::access(o_.stop_file.c_str(), F_OK) == 0) {
                polls_.resize(next);  // the polls not started yet are not part of the run
                end = polls_.back().due;
            }
        }
        if (next >= polls_.size() && in_flight_ == 0 && (o_.trigger_at < 0 || triggered_ >= 0))
            break;
        if (next >= polls_.size() && t > end + 2 * limit) break;  // nothing left can be answered
        // Capped: an answer (an epoll event) frees a place; a timer in the past would spin.
        std::int64_t wake = next < polls_.size() && !capped ? polls_[next].due : -1;
        if (o_.trigger_at >= 0 && triggered_ < 0) {
            const auto at = static_cast<std::int64_t>(o_.trigger_at * 1e9);
            wake = wake < 0 ? at : std::min(wake, at);
        }
        if (wake >= 0) arm_timer(wake);
        const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
        if (n < 0 && errno != EINTR) fail(std::string("epoll_wait: ") + std::strerror(errno));
        t = now_ns() - start_;
        for (int i = 0; i < n; ++i) {
            const epoll_event& event = events[static_cast<std::size_t>(i)];
            if (event.data.u64 == kTimerTag) {
                std::uint64_t expirations = 0;
                while (::read(timer_, &expirations, sizeof expirations) > 0) {
                }
                continue;
            }
            on_event(static_cast<std::size_t>(event.data.u64), event.events, t);
        }
    }
    for (std::size_t w = 0; static_cast<double>(w) * o_.window * 1e9 <= static_cast<double>(end);
         ++w)
        window_line(w);
    if (trigger_pid_ > 0) {
        int status = 0;
        waitpid(trigger_pid_, &status, 0);
        trigger_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    }
    wall_s_ = static_cast<double>(now_ns() - start_) / 1e9;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    cpu_s_ = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
             static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

void Generator::report() const {
    long sent = 0, answered = 0, s304 = 0, s200 = 0, other = 0, errors = 0, late10 = 0;
    std::map<std::string, long> kinds;
    std::vector<double> from_due, from_start, lateness;
    std::int64_t last_answer = 0, first_200 = -1, last_200 = -1;
    for (const auto& p : polls_) {
        if (p.answered >= 0 && p.status == 200) {
            if (first_200 < 0 || p.answered < first_200) first_200 = p.answered;
            last_200 = std::max(last_200, p.answered);
        }
        if (p.started >= 0) {
            ++sent;
            lateness.push_back(static_cast<double>(p.started - p.due) / 1e6);
            if (p.started - p.due > 10000000LL) ++late10;
        }
        if (p.answered >= 0) {
            ++answered;
            (p.status == 304 ? s304 : p.status == 200 ? s200 : other)++;
            if (p.status != 304 && p.status != 200) kinds["HTTP " + std::to_string(p.status)]++;
            from_due.push_back(static_cast<double>(p.answered - p.due) / 1e6);
            from_start.push_back(static_cast<double>(p.answered - p.started) / 1e6);
            last_answer = std::max(last_answer, p.answered);
        } else {
            ++errors;
            kinds[p.error ? p.error : "never answered"]++;
        }
    }
    std::sort(from_due.begin(), from_due.end());
    std::sort(from_start.begin(), from_start.end());
    std::sort(lateness.begin(), lateness.end());
    // The schedule covers polls × interval seconds; answers are counted until the last one
    // came, so a server that lags behind shows a lower answered rate.
    const double span =
        static_cast<double>(polls_.size()) * o_.period / static_cast<double>(requests_.size());
    const double answer_span = std::max(span, static_cast<double>(last_answer) / 1e9);
    std::printf(
        "clients=%zu\nperiod_s=%g\nscheduled=%zu\nsent=%ld\nanswered=%ld\nstatus_304=%ld\n"
        "status_200=%ld\nstatus_other=%ld\nerrors=%ld\n",
        requests_.size(), o_.period, polls_.size(), sent, answered, s304, s200, other, errors);
    std::string detail;
    for (const auto& [kind, count] : kinds)
        detail += (detail.empty() ? "" : "; ") + kind + " ×" + std::to_string(count);
    std::printf("error_kinds=%s\n", detail.empty() ? "none" : detail.c_str());
    std::printf("offered_per_s=%.1f\nanswered_per_s=%.1f\nlast_answer_after_last_due_ms=%.2f\n",
                static_cast<double>(polls_.size()) / span,
                static_cast<double>(answered) / answer_span,
                static_cast<double>(last_answer - polls_.back().due) / 1e6);
    std::printf(
        "latency_ms_p50=%.3f\nlatency_ms_p99=%.3f\nlatency_ms_p999=%.3f\nlatency_ms_max=%.3f\n",
        percentile(from_due, 0.5), percentile(from_due, 0.99), percentile(from_due, 0.999),
        from_due.empty() ? 0.0 : from_due.back());
    std::printf("service_ms_p50=%.3f\nservice_ms_p99=%.3f\nservice_ms_max=%.3f\n",
                percentile(from_start, 0.5), percentile(from_start, 0.99),
                from_start.empty() ? 0.0 : from_start.back());
    std::printf("late_ms_p50=%.3f\nlate_ms_p99=%.3f\nlate_ms_max=%.3f\nlate_over_10ms=%ld\n",
                percentile(lateness, 0.5), percentile(lateness, 0.99),
                lateness.empty() ? 0.0 : lateness.back(), late10);
    const std::int64_t origin = triggered_ >= 0 ? triggered_ : 0;
    std::printf("clients_given_a_new_policy=%ld\n",
                static_cast<long>(std::count(new_policy_.begin(), new_policy_.end(), true)));
    std::printf("first_200_ms=%.1f\nlast_200_ms=%.1f\n",
                first_200 < 0 ? -1.0 : static_cast<double>(first_200 - origin) / 1e6,
                last_200 < 0 ? -1.0 : static_cast<double>(last_200 - origin) / 1e6);
    if (o_.trigger_at >= 0)
        std::printf("triggered_at_s=%.3f\ntrigger_exit=%d\n", static_cast<double>(triggered_) / 1e9,
                    trigger_status_);
    std::printf(
        "max_in_flight=%ld\ndeferred_by_max_in_flight=%ld\nwall_s=%.3f\ngenerator_cpu_s=%.2f\n",
        max_in_flight_seen_, deferred_, wall_s_, cpu_s_);
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    // One descriptor per open poll: ask for as many as the hard limit allows.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    Generator generator(options);
    generator.run();
    generator.report();
    return 0;
}
