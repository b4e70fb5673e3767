#include "http_front.h"

#include <Poco/Net/HTTPServerConnectionFactory.h>
#include <Poco/Net/SecureServerSocketImpl.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <unordered_map>

#include "fault_log.h"
#include "ferry/error.h"
#include "listen_socket.h"

namespace ferry::server {

namespace {

// A head longer than this goes to Poco, which applies its own limits and answers 400.
constexpr std::size_t kMaxHead = 8192;
constexpr int kMaxEvents = 256;

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const unsigned char x = static_cast<unsigned char>(a[i]);
        const unsigned char y = static_cast<unsigned char>(b[i]);
        if (x != y && std::tolower(x) != std::tolower(y)) return false;
    }
    return true;
}

std::string_view trim_blanks(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// True when the comma-separated header value holds `token` (ignoring case).
bool has_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        const std::size_t comma = value.find(',');
        if (equal_ignoring_case(trim_blanks(value.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

bool is_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Date as Poco writes it (RFC 1123), formatted once a second per thread.
const std::string& http_date() {
    thread_local std::time_t formatted_second = 0;
    thread_local std::string text;
    const std::time_t now = std::time(nullptr);
    if (now != formatted_second) {
        std::tm parts{};
        gmtime_r(&now, &parts);
        char buffer[64];
        std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &parts);
        text = buffer;
        formatted_second = now;
    }
    return text;
}

// A process may hold more connections than the usual soft limit of 1,024 descriptors: raise it
// to the hard limit (what the administrator allows) once.
std::size_t raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = std::min<rlim_t>(limit.rlim_max, 1 << 20);
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    return static_cast<std::size_t>(limit.rlim_cur);
}

}  // namespace

std::string_view RequestHead::header(std::string_view name) const {
    for (std::size_t i = 0; i < header_count; ++i)
        if (equal_ignoring_case(names[i], name)) return values[i];
    return {};
}

bool parse_request_head(std::string_view bytes, RequestHead& head) {
    head = RequestHead{};
    std::size_t line_end = bytes.find("\r\n");
    if (line_end == std::string_view::npos) return false;
    // A lone CR or LF anywhere would split lines differently for Poco than here.
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const bool pair = i + 1 < bytes.size() && bytes[i] == '\r' && bytes[i + 1] == '\n';
        if (pair) {
            ++i;
        } else if (bytes[i] == '\r' || bytes[i] == '\n' || bytes[i] == '\0') {
            return false;
        }
    }
    const std::string_view request_line = bytes.substr(0, line_end);
    const std::size_t first_space = request_line.find(' ');
    const std::size_t last_space = request_line.rfind(' ');
    if (first_space == std::string_view::npos || first_space == 0 || last_space == first_space)
        return false;
    head.method = request_line.substr(0, first_space);
    head.target = request_line.substr(first_space + 1, last_space - first_space - 1);
    if (request_line.substr(last_space + 1) != "HTTP/1.1") return false;
    if (!std::all_of(head.method.begin(), head.method.end(), is_token_char)) return false;
    if (head.target.empty() || head.target.front() != '/' ||
        head.target.find_first_of(" \t") != std::string_view::npos)
        return false;
    std::size_t position = line_end + 2;
    while (true) {
        line_end = bytes.find("\r\n", position);
        if (line_end == std::string_view::npos) return false;
        if (line_end == position) {  // the blank line ends the head
            position += 2;
            break;
        }
        const std::string_view line = bytes.substr(position, line_end - position);
        position = line_end + 2;
        if (line.front() == ' ' || line.front() == '\t') return false;  // obsolete folding
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return false;
        const std::string_view name = line.substr(0, colon);
        if (!std::all_of(name.begin(), name.end(), is_token_char)) return false;
        if (head.header_count == RequestHead::kMaxHeaders) return false;
        head.names[head.header_count] = name;
        head.values[head.header_count] = trim_blanks(line.substr(colon + 1));
        ++head.header_count;
    }
    if (position != bytes.size()) return false;
    // No body: no Transfer-Encoding, and at most one Content-Length, of 0. (Two of them could
    // be read differently by another parser; Poco decides about such requests.)
    int lengths = 0;
    for (std::size_t i = 0; i < head.header_count; ++i) {
        if (equal_ignoring_case(head.names[i], "Transfer-Encoding")) return false;
        if (equal_ignoring_case(head.names[i], "Content-Length") &&
            (++lengths > 1 || head.values[i] != "0"))
            return false;
    }
    head.keep_alive = !has_token(head.header("Connection"), "close");
    return true;
}

void append_response_start(std::string& response, std::string_view status, bool keep_alive) {
    response.append("HTTP/1.1 ").append(status).append("\r\nDate: ").append(http_date());
    response.append(keep_alive ? "\r\nConnection: Keep-Alive\r\n" : "\r\nConnection: Close\r\n");
}

// One epoll loop on its own thread: accepts from the shared listening socket (EPOLLEXCLUSIVE
// wakes one loop per connection), peeks at heads, answers fast requests, hands the rest over.
class HttpFront::Loop {
  public:
    Loop(HttpFront& front, int listen_fd, std::unique_ptr<FastAnswers> fast,
         std::size_t max_connections)
        : front_(front),
          listen_fd_(listen_fd),
          fast_(std::move(fast)),
          max_connections_(max_connections) {
        epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
        wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        try {
            if (epoll_fd_ < 0 || wake_fd_ < 0)
                throw Error(ErrorCode::Io, std::string("HTTP front: ") + std::strerror(errno));
            add(wake_fd_, EPOLLIN);
            add(listen_fd_, EPOLLIN | EPOLLEXCLUSIVE);
        } catch (...) {
            // The destructor does not run for a constructor that throws.
            if (wake_fd_ >= 0) ::close(wake_fd_);
            if (epoll_fd_ >= 0) ::close(epoll_fd_);
            throw;
        }
    }
    ~Loop() {
        stop();
        ::close(wake_fd_);
        ::close(epoll_fd_);
    }
    void start() {
        thread_ = std::thread([this] { run(); });
    }
    void stop() {
        if (!thread_.joinable()) return;
        stopping_ = true;
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
        thread_.join();
        // The connections it held end with it (a client sees the close and tries again).
        for (const auto& [fd, connection] : connections_) ::close(fd);
        connections_.clear();
        held_ = 0;
    }
    std::size_t held() const { return held_.load(); }

  private:
    struct Connection {
        std::int64_t last_activity_ms = 0;
        std::int64_t head_since_ms = 0;  // 0: no partial head waiting
        std::string pending;             // answer bytes the socket did not take yet
        bool close_when_written = false;
        bool peer_done = false;  // the client shut down its side: no more bytes will come
    };

    void add(int fd, std::uint32_t events) {
        epoll_event event{};
        event.events = events;
        event.data.fd = fd;
        if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0)
            throw Error(ErrorCode::Io, std::string("HTTP front: epoll: ") + std::strerror(errno));
    }

    void run() {
        epoll_event events[kMaxEvents];
        std::int64_t next_sweep = steady_ms() + 250;
        while (!stopping_) {
            const int ready = epoll_wait(epoll_fd_, events, kMaxEvents, 250);
            if (ready < 0 && errno != EINTR) {
                log_fault("error", "HTTP front: epoll_wait failed", std::strerror(errno));
                break;
            }
            now_ms_ = steady_ms();
            for (int i = 0; i < ready; ++i) {
                const int fd = events[i].data.fd;
                if (fd == wake_fd_) continue;
                if (fd == listen_fd_) {
                    accept_all();
                } else {
                    serve(fd, events[i].events);
                }
            }
            if (now_ms_ >= next_sweep) {
                sweep();
                next_sweep = now_ms_ + 250;
            }
        }
    }

    void accept_all() {
        while (true) {
            const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED) continue;
                if (errno == EMFILE || errno == ENFILE) close_oldest_idle();
                return;  // EAGAIN: none left (or out of descriptors until one closes)
            }
            if (connections_.size() >= max_connections_) close_oldest_idle();
            const int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            epoll_event event{};
            event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
            event.data.fd = fd;
            if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
                ::close(fd);
                continue;
            }
            connections_[fd].last_activity_ms = now_ms_;
            held_ = connections_.size();
            // Data may have arrived with the connection: edge-triggered epoll reports it only
            // on the next change, so look now.
            serve(fd, EPOLLIN);
        }
    }

    // Makes room under the connection limit (or after running out of descriptors) by closing
    // the connection that has been silent longest.
    void close_oldest_idle() {
        auto oldest = connections_.end();
        for (auto it = connections_.begin(); it != connections_.end(); ++it)
            if (oldest == connections_.end() ||
                it->second.last_activity_ms < oldest->second.last_activity_ms)
                oldest = it;
        if (oldest != connections_.end()) close(oldest->first);
    }

    void close(int fd) {
        ::close(fd);  // also leaves the epoll set
        connections_.erase(fd);
        held_ = connections_.size();
    }

    void serve(int fd, std::uint32_t events) {
        const auto it = connections_.find(fd);
        if (it == connections_.end()) return;
        Connection& connection = it->second;
        if (events & (EPOLLERR | EPOLLHUP)) return close(fd);
        if (events & EPOLLRDHUP) connection.peer_done = true;
        if (!connection.pending.empty() && !flush(fd, connection)) return;
        if (connection.close_when_written) return close(fd);
        read_requests(fd, connection);
    }

    // Writes what is pending; false when the connection is closed or must wait for EPOLLOUT.
    bool flush(int fd, Connection& connection) {
        while (!connection.pending.empty()) {
            const ssize_t sent =
                ::send(fd, connection.pending.data(), connection.pending.size(), MSG_NOSIGNAL);
            if (sent < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
                close(fd);
                return false;
            }
            connection.pending.erase(0, static_cast<std::size_t>(sent));
        }
        return true;
    }

    void read_requests(int fd, Connection& connection) {
        while (true) {
            const ssize_t peeked = ::recv(fd, buffer_, sizeof buffer_, MSG_PEEK);
            if (peeked == 0) return close(fd);  // the client closed between requests
            if (peeked < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK) close(fd);
                return;
            }
            connection.last_activity_ms = now_ms_;
            const std::string_view bytes(buffer_, static_cast<std::size_t>(peeked));
            const std::size_t end = bytes.find("\r\n\r\n");
            if (end == std::string_view::npos) {
                // Too long for the loop, or lines ended by a bare LF (which Poco accepts):
                // Poco's to read and answer.
                if (bytes.size() >= kMaxHead || bytes.find("\n\n") != std::string_view::npos)
                    return hand_over(fd);
                // A head that can no longer be completed: the peek would show it forever.
                if (connection.peer_done) return close(fd);
                if (connection.head_since_ms == 0) connection.head_since_ms = now_ms_;
                return;  // the rest of the head comes with a later event
            }
            const std::size_t head_size = end + 4;
            answer_.clear();
            if (!fast_ || !parse_request_head(bytes.substr(0, head_size), head_) ||
                !fast_->answer(head_, answer_))
                return hand_over(fd);
            // Answered here: take the head off the socket (the peek left it there).
            if (::recv(fd, buffer_, head_size, 0) != static_cast<ssize_t>(head_size))
                return close(fd);
            connection.head_since_ms = 0;
            connection.pending.append(answer_);
            connection.close_when_written = !head_.keep_alive;
            if (!flush(fd, connection)) return;  // the rest when the socket takes more
            if (connection.close_when_written) return close(fd);
        }
    }

    void hand_over(int fd) {
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        connections_.erase(fd);
        held_ = connections_.size();
        front_.hand_over(fd);
    }

    void sweep() {
        const auto head_limit = front_.limits_.head_timeout.count();
        const auto idle_limit = front_.limits_.idle_timeout.count();
        std::vector<int> expired;
        for (const auto& [fd, connection] : connections_) {
            const bool head_late =
                connection.head_since_ms != 0 && now_ms_ - connection.head_since_ms >= head_limit;
            const bool idle = connection.head_since_ms == 0 &&
                              now_ms_ - connection.last_activity_ms >= idle_limit;
            if (head_late || idle) expired.push_back(fd);
        }
        for (const int fd : expired) close(fd);
    }

    HttpFront& front_;
    const int listen_fd_;
    std::unique_ptr<FastAnswers> fast_;
    const std::size_t max_connections_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> held_{0};
    std::int64_t now_ms_ = 0;
    std::unordered_map<int, Connection> connections_;
    char buffer_[kMaxHead];
    RequestHead head_;
    std::string answer_;
};

HttpFront::HttpFront(Poco::Net::ServerSocket socket, Poco::SharedPtr<FrontRouteFactory> factory,
                     Poco::Net::HTTPServerParams::Ptr params, FastAnswersMaker fast, Limits limits)
    : socket_(std::move(socket)),
      factory_(std::move(factory)),
      params_(std::move(params)),
      fast_(std::move(fast)),
      limits_(limits) {
    if (dynamic_cast<Poco::Net::SecureServerSocketImpl*>(socket_.impl()) != nullptr) {
        tls_server_ = std::make_unique<Poco::Net::HTTPServer>(factory_, socket_, params_);
        return;
    }
    socket_.setBlocking(false);
    std::size_t loops = limits_.loops;
    if (loops == 0) loops = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t descriptors = raise_descriptor_limit();
    // Leave room for the database, the objects being served and Poco's connections.
    std::size_t max_connections =
        std::min(limits_.max_connections, descriptors > 512 ? descriptors - 256 : descriptors / 2);
    max_connections = std::max<std::size_t>(max_connections / loops, 1);
    for (std::size_t i = 0; i < loops; ++i)
        loops_.push_back(std::make_unique<Loop>(*this, socket_.impl()->sockfd(),
                                                fast_ ? fast_() : nullptr, max_connections));
    // Last: a loop (or its FastAnswers, which opens the database) may throw, and the destructor
    // that releases the dispatcher does not run for a constructor that throws.
    threads_ = std::make_unique<Poco::ThreadPool>(2, std::max(2, params_->getMaxThreads()));
    dispatcher_ = new Poco::Net::TCPServerDispatcher(
        new Poco::Net::HTTPServerConnectionFactory(params_, factory_), *threads_, params_);
}

HttpFront::~HttpFront() {
    stop();
    if (dispatcher_) dispatcher_->release();
    if (threads_) threads_->joinAll();
}

void HttpFront::start() {
    started_ = true;
    if (tls_server_) return tls_server_->start();
    for (auto& loop : loops_) loop->start();
}

void HttpFront::stop() {
    if (stopped_) return;
    stopped_ = true;
    if (tls_server_) {
        if (started_) stop_http_server(*tls_server_);
        return;
    }
    // Stops each loop and closes the connections it held; the loops themselves stay until the
    // destructor, so that held_connections() can be asked at any time.
    for (auto& loop : loops_) loop->stop();
    auto wait_idle = [&](std::chrono::milliseconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (dispatcher_->currentConnections() > 0 && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return dispatcher_->currentConnections() == 0;
    };
    dispatcher_->stop();                // connections queued for a thread are dropped
    factory_->stop_connections(false);  // kept-alive connections end after their request
    if (wait_idle(std::chrono::seconds(2))) return;
    factory_->stop_connections(true);
    wait_idle(std::chrono::seconds(5));
}

std::uint16_t HttpFront::port() const { return socket_.address().port(); }

std::size_t HttpFront::held_connections() const {
    std::size_t held = 0;
    for (const auto& loop : loops_) held += loop->held();
    return held;
}

int HttpFront::handed_connections() const {
    if (tls_server_) return tls_server_->currentConnections() + tls_server_->queuedConnections();
    return dispatcher_ ? dispatcher_->currentConnections() + dispatcher_->queuedConnections() : 0;
}

void HttpFront::hand_over(int fd) {
    // Poco's connection uses blocking sockets with timeouts; the request is still unread.
    Poco::Net::StreamSocket socket(new Poco::Net::StreamSocketImpl(fd));
    socket.setBlocking(true);
    dispatcher_->enqueue(socket);
}

}  // namespace ferry::server
