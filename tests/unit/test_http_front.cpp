// HttpFront: the epoll front of ferryd's plain-HTTP connections, in this process on 127.0.0.1.
//
// parse_request_head and append_response_start on their own; then a real front with a toy
// FastAnswers (GET /fast, answered "fast" on the loop) and a toy Poco handler (everything else,
// answered "slow METHOD URI body-length"), spoken to with plain blocking sockets whose every
// read has a deadline, so that a hang is a failure and never a stuck test. Timing checks use
// generous upper bounds (a loaded 2-core machine must not fail them) and lower bounds only
// where they tell one timeout from another.
#define BOOST_TEST_MODULE http_front
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "http_front.h"

using namespace std::chrono_literals;
using ferry::server::append_response_start;
using ferry::server::FastAnswers;
using ferry::server::FastAnswersMaker;
using ferry::server::FrontRouteFactory;
using ferry::server::HttpFront;
using ferry::server::parse_request_head;
using ferry::server::RequestHead;
using Clock = std::chrono::steady_clock;

namespace {

// How long anything that should happen promptly may take before it counts as a hang.
constexpr auto kPatience = 10s;

long long ms(Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

// Polls `done` every 10 ms until it holds or `limit` passes; what it returned last.
bool wait_until(const std::function<bool()>& done, Clock::duration limit = kPatience) {
    const auto until = Clock::now() + limit;
    while (!done()) {
        if (Clock::now() >= until) return done();
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

// ---- SIGPIPE ---------------------------------------------------------------------------------
// ferryd does not ignore SIGPIPE, so a write to a connection the client has reset must not raise
// it. Counted here rather than left at its default, so that one shows as a failed check instead
// of a killed test run (Poco's own handed-over connections may raise it; the checks look only
// at what happens while the loops alone write).

std::atomic<int> g_sigpipes{0};

void count_sigpipe(int) { g_sigpipes.fetch_add(1, std::memory_order_relaxed); }

struct CountSigpipe {
    CountSigpipe() {
        struct sigaction action {};
        action.sa_handler = count_sigpipe;
        sigemptyset(&action.sa_mask);
        sigaction(SIGPIPE, &action, nullptr);
    }
};

// ---- requests --------------------------------------------------------------------------------

std::string get(std::string_view target, std::string_view extra_headers = "") {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
           std::string(extra_headers) + "\r\n";
}

std::string post(std::string_view target, std::string_view body) {
    return "POST " + std::string(target) +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + std::string(body);
}

// ---- the test client -------------------------------------------------------------------------

struct Response {
    bool complete = false;
    std::string error;  // why it is not complete
    std::string status_line;
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    // The first header of that name, or "" (names compared without regard to case).
    std::string header(std::string_view name) const {
        for (const auto& [n, v] : headers)
            if (iequals(n, name)) return v;
        return {};
    }
    bool has_header(std::string_view name) const {
        for (const auto& h : headers)
            if (iequals(h.first, name)) return true;
        return false;
    }
};

// How a connection ended, or did not.
enum class End { Eof, Reset, Data, Timeout, Error };

std::ostream& operator<<(std::ostream& out, End end) {
    switch (end) {
        case End::Eof:
            return out << "EOF";
        case End::Reset:
            return out << "reset";
        case End::Data:
            return out << "data";
        case End::Timeout:
            return out << "timeout";
        case End::Error:
            return out << "error";
    }
    return out;
}

// A blocking TCP connection to 127.0.0.1:port whose reads all have a deadline.
class Client {
  public:
    explicit Client(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return;
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            close();
            return;
        }
        // A send the server never drains fails after kPatience instead of hanging.
        timeval patience{std::chrono::duration_cast<std::chrono::seconds>(kPatience).count(), 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof patience);
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~Client() { close(); }
    Client(Client&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}
    Client& operator=(Client&& other) noexcept {
        if (this != &other) {
            close();
            fd_ = std::exchange(other.fd_, -1);
            buffer_ = std::move(other.buffer_);
        }
        return *this;
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    bool connected() const { return fd_ >= 0; }

    // Sends every byte; false when the connection fails (never raises SIGPIPE).
    bool send_all(std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // Reads one response: status line, headers, and a body of Content-Length bytes (or, without
    // one, up to the end of the connection).
    Response read_response(Clock::time_point deadline = Clock::now() + kPatience) {
        Response response;
        std::size_t head_end;
        while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
            const End end = fill(deadline);
            if (end != End::Data) {
                std::ostringstream why;
                why << "no whole response head (" << end << " after " << buffer_.size()
                    << " bytes: \"" << buffer_.substr(0, 80) << "\")";
                response.error = why.str();
                return response;
            }
        }
        const std::string head = buffer_.substr(0, head_end);
        std::size_t line_end = head.find("\r\n");
        response.status_line = head.substr(0, line_end);
        if (response.status_line.rfind("HTTP/1.", 0) != 0 || response.status_line.size() < 12) {
            response.error = "not a status line: \"" + response.status_line + "\"";
            return response;
        }
        response.status = std::atoi(response.status_line.substr(9, 3).c_str());
        while (line_end != std::string::npos) {
            const std::size_t start = line_end + 2;
            line_end = head.find("\r\n", start);
            const std::string line = head.substr(start, line_end - start);
            const std::size_t colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            value.erase(value.find_last_not_of(" \t") + 1);
            response.headers.emplace_back(line.substr(0, colon), value);
        }
        buffer_.erase(0, head_end + 4);
        if (response.has_header("Content-Length")) {
            const std::size_t length = std::stoul(response.header("Content-Length"));
            while (buffer_.size() < length) {
                const End end = fill(deadline);
                if (end != End::Data) {
                    std::ostringstream why;
                    why << "body cut short (" << end << " after " << buffer_.size() << " of "
                        << length << " bytes)";
                    response.error = why.str();
                    return response;
                }
            }
            response.body = buffer_.substr(0, length);
            buffer_.erase(0, length);
        } else if (!response.header("Transfer-Encoding").empty()) {
            response.error = "chunked responses are not read here";
            return response;
        } else if (response.status >= 200 && response.status != 204 && response.status != 304) {
            End end;
            while ((end = fill(deadline)) == End::Data) {
            }
            if (end != End::Eof && end != End::Reset) {
                response.error = "no end to a body without Content-Length";
                return response;
            }
            response.body = std::move(buffer_);
            buffer_.clear();
        }
        response.complete = true;
        return response;
    }

    // Waits for the server to end the connection: EOF, reset, data (something arrived instead,
    // or was already unread), or timeout at `deadline`.
    End wait_end(Clock::time_point deadline) {
        if (!buffer_.empty()) return End::Data;
        return fill(deadline);
    }

    // Nothing to read and not ended, right now.
    bool quiet_now() {
        if (!buffer_.empty()) return false;
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, 0) == 0;
    }

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    // Closes with a reset (RST) instead of a FIN.
    void reset() {
        if (fd_ < 0) return;
        linger hard{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        close();
    }

  private:
    // Appends what arrives before `deadline` to the buffer.
    End fill(Clock::time_point deadline) {
        if (fd_ < 0) return End::Error;
        for (;;) {
            const auto left = std::max<long long>(0, ms(deadline - Clock::now()));
            pollfd p{fd_, POLLIN, 0};
            const int ready = ::poll(&p, 1, static_cast<int>(left));
            if (ready < 0 && errno == EINTR) continue;
            if (ready < 0) return End::Error;
            if (ready == 0) return End::Timeout;
            char chunk[65536];
            const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n > 0) {
                buffer_.append(chunk, static_cast<std::size_t>(n));
                return End::Data;
            }
            if (n == 0) return End::Eof;
            if (errno == EINTR || errno == EAGAIN) continue;
            return errno == ECONNRESET ? End::Reset : End::Error;
        }
    }

    int fd_ = -1;
    std::string buffer_;  // received, not yet read as a response
};

// ---- the toy server --------------------------------------------------------------------------

struct ToyState {
    std::atomic<int> poco_requests{0};   // requests Poco's handler answered
    std::atomic<int> sleepers{0};        // /sleep requests that entered the handler
    std::atomic<int> fast_answers{0};    // requests FastAnswers answered
    std::atomic<int> fast_objects{0};    // FastAnswers objects made
    std::atomic<int> shared_objects{0};  // answer() calls from a second thread on one object
};

// Poco's side: "slow METHOD URI body-length", after reading the body; /sleep takes 300 ms.
class ToyHandler : public Poco::Net::HTTPRequestHandler {
  public:
    explicit ToyHandler(std::shared_ptr<ToyState> state) : state_(std::move(state)) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
        std::string body;
        Poco::StreamCopier::copyToString(request.stream(), body);
        if (request.getURI() == "/sleep") {
            ++state_->sleepers;
            std::this_thread::sleep_for(300ms);
        }
        const std::string text = "slow " + request.getMethod() + " " + request.getURI() + " " +
                                 std::to_string(body.size());
        ++state_->poco_requests;
        response.setContentType("text/plain");
        response.setContentLength(static_cast<std::streamsize>(text.size()));
        response.send() << text;
    }

  private:
    std::shared_ptr<ToyState> state_;
};

class ToyFactory : public FrontRouteFactory {
  public:
    explicit ToyFactory(std::shared_ptr<ToyState> state) : state_(std::move(state)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
        return new ToyHandler(state_);
    }

  private:
    std::shared_ptr<ToyState> state_;
};

// The loop's side: GET /fast, and nothing else, answered "fast".
class ToyFast : public FastAnswers {
  public:
    explicit ToyFast(std::shared_ptr<ToyState> state) : state_(std::move(state)) {}
    bool answer(const RequestHead& head, std::string& response) override {
        const auto me = std::this_thread::get_id();
        if (owner_ == std::thread::id{}) owner_ = me;
        if (owner_ != me) ++state_->shared_objects;
        if (head.method != "GET" || head.target != "/fast") return false;
        append_response_start(response, "200 OK", head.keep_alive);
        response += "Content-Type: text/plain\r\nContent-Length: 4\r\n\r\nfast";
        ++state_->fast_answers;
        return true;
    }

  private:
    std::shared_ptr<ToyState> state_;
    std::thread::id owner_;
};

struct FrontOptions {
    int max_threads = 2;
    bool fast = true;
    HttpFront::Limits limits = [] {
        HttpFront::Limits limits;  // 10 s timeouts: out of the way of tests not about them
        limits.loops = 2;
        return limits;
    }();
};

// A started HttpFront on 127.0.0.1, port chosen by the system; destroyed without stop() unless
// the test stops it (the destructor must stop it).
class TestFront {
  public:
    explicit TestFront(FrontOptions options = {}) : state_(std::make_shared<ToyState>()) {
        Poco::Net::ServerSocket socket;
        socket.bind(Poco::Net::SocketAddress("127.0.0.1", 0), true);
        socket.listen(256);
        port_ = socket.address().port();
        Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
        params->setMaxThreads(options.max_threads);
        params->setMaxQueued(256);
        params->setKeepAlive(true);
        params->setKeepAliveTimeout(Poco::Timespan(5, 0));
        params->setTimeout(Poco::Timespan(5, 0));
        FastAnswersMaker maker;
        if (options.fast) {
            maker = [state = state_]() -> std::unique_ptr<FastAnswers> {
                ++state->fast_objects;
                return std::make_unique<ToyFast>(state);
            };
        }
        Poco::SharedPtr<FrontRouteFactory> factory(new ToyFactory(state_));
        front_ = std::make_unique<HttpFront>(std::move(socket), factory, params, std::move(maker),
                                             options.limits);
        front_->start();
    }

    HttpFront& front() { return *front_; }
    ToyState& state() { return *state_; }
    std::uint16_t port() const { return port_; }
    Client connect() {
        Client client(port_);
        BOOST_REQUIRE_MESSAGE(client.connected(), "cannot connect to 127.0.0.1:" << port_);
        return client;
    }
    // Waits until the loops hold no connection and Poco serves none.
    bool settles() {
        return wait_until(
            [&] { return front_->held_connections() == 0 && front_->handed_connections() == 0; });
    }

  private:
    std::shared_ptr<ToyState> state_;
    std::uint16_t port_ = 0;
    std::unique_ptr<HttpFront> front_;
};

// Sends `request` and reads one response, on `client`.
Response ask(Client& client, std::string_view request) {
    if (!client.send_all(request)) {
        Response failed;
        failed.error = "send failed: " + std::string(std::strerror(errno));
        return failed;
    }
    return client.read_response();
}

void expect_fast(const Response& r) {
    BOOST_REQUIRE_MESSAGE(r.complete, r.error);
    BOOST_TEST(r.status_line == "HTTP/1.1 200 OK");
    BOOST_TEST(r.body == "fast");
}

void expect_slow(const Response& r, std::string_view body) {
    BOOST_REQUIRE_MESSAGE(r.complete, r.error);
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == body);
}

bool parses(std::string_view bytes) {
    RequestHead head;
    return parse_request_head(bytes, head);
}

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(CountSigpipe);

// =============================================================================================
BOOST_AUTO_TEST_SUITE(ParseRequestHead)

BOOST_AUTO_TEST_CASE(APlainGetIsParsedWithItsHeaders) {
    const std::string bytes =
        "GET /v1/policy?since=12&x=y HTTP/1.1\r\n"
        "Host: ferry.example\r\n"
        "X-Thing:   spaced  value \t\r\n"
        "X-Tab:\tv\r\n"
        "x-dup: first\r\n"
        "X-Dup: second\r\n"
        "\r\n";
    RequestHead head;
    BOOST_REQUIRE(parse_request_head(bytes, head));
    BOOST_TEST(head.method == "GET");
    BOOST_TEST(head.target == "/v1/policy?since=12&x=y");
    BOOST_TEST(head.keep_alive);
    BOOST_TEST(head.header_count == 5u);
    BOOST_TEST(head.names[0] == "Host");
    BOOST_TEST(head.values[0] == "ferry.example");
    BOOST_TEST(head.names[4] == "X-Dup");
    BOOST_TEST(head.values[4] == "second");
    // header(): any case, blanks (spaces and tabs) trimmed from both ends, the first of several.
    BOOST_TEST(head.header("Host") == "ferry.example");
    BOOST_TEST(head.header("HOST") == "ferry.example");
    BOOST_TEST(head.header("host") == "ferry.example");
    BOOST_TEST(head.header("x-thing") == "spaced  value");
    BOOST_TEST(head.header("X-TAB") == "v");
    BOOST_TEST(head.header("X-Dup") == "first");
    BOOST_TEST(head.header("x-th").empty());  // a prefix is not the name
    BOOST_TEST(head.header("Absent").empty());
    // The views point into the bytes parsed.
    BOOST_TEST(
        (head.target.data() >= bytes.data() && head.target.data() < bytes.data() + bytes.size()));
}

BOOST_AUTO_TEST_CASE(ConnectionCloseTurnsKeepAliveOff) {
    for (const char* value : {"close", "Close", "CLOSE"}) {
        RequestHead head;
        BOOST_REQUIRE(
            parse_request_head(get("/", std::string("Connection: ") + value + "\r\n"), head));
        BOOST_TEST(!head.keep_alive, "Connection: " << value);
    }
    RequestHead head;
    BOOST_REQUIRE(parse_request_head(get("/", "Connection: keep-alive\r\n"), head));
    BOOST_TEST(head.keep_alive);
    BOOST_REQUIRE(parse_request_head(get("/"), head));
    BOOST_TEST(head.keep_alive);
}

BOOST_AUTO_TEST_CASE(AHeadObjectIsFilledAfreshEachTime) {
    RequestHead head;
    BOOST_REQUIRE(parse_request_head(get("/a", "Connection: close\r\nX-A: 1\r\nX-B: 2\r\n"), head));
    BOOST_TEST(head.header_count == 4u);
    BOOST_TEST(!head.keep_alive);
    BOOST_REQUIRE(parse_request_head("GET /b HTTP/1.1\r\nHost: h\r\n\r\n", head));
    BOOST_TEST(head.target == "/b");
    BOOST_TEST(head.header_count == 1u);
    BOOST_TEST(head.keep_alive);
    BOOST_TEST(head.header("X-A").empty());
}

BOOST_AUTO_TEST_CASE(OnlyHttp11IsAccepted) {
    BOOST_TEST(parses("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    BOOST_TEST(!parses("GET / HTTP/1.0\r\nHost: h\r\n\r\n"));
    BOOST_TEST(!parses("GET / HTTP/1.0\r\n\r\n"));
    BOOST_TEST(!parses("GET / HTTP/2.0\r\nHost: h\r\n\r\n"));
    BOOST_TEST(!parses("GET / HTTP/1.10\r\nHost: h\r\n\r\n"));
    BOOST_TEST(!parses("GET / HTTX/1.1\r\nHost: h\r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(LoneLineBreaksAreRefused) {
    // Poco would split these lines where the loop would not: they are Poco's to read.
    BOOST_TEST(!parses("GET /x HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"));
    BOOST_TEST(!parses("GET /x HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"));
    BOOST_TEST(!parses("GET /x\n HTTP/1.1\r\nHost: a\r\n\r\n"));
    BOOST_TEST(!parses(std::string("GET /x HTTP/1.1\r\nHost: a\0b\r\n\r\n", 31)));
}

BOOST_AUTO_TEST_CASE(RequestsWithABodyAreRefused) {
    BOOST_TEST(!parses("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"));
    BOOST_TEST(!parses("GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"));
    BOOST_TEST(!parses("GET /x HTTP/1.1\r\nHost: h\r\ncontent-length: 5\r\n\r\n"));
    BOOST_TEST(!parses("GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n"));
    BOOST_TEST(!parses("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"));
    BOOST_TEST(!parses("GET /x HTTP/1.1\r\nHost: h\r\ntransfer-encoding: chunked\r\n\r\n"));
    BOOST_TEST(!parses("GET /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n"));
    // Two lengths could be read differently by another parser: Poco decides.
    BOOST_TEST(!parses("GET /x HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n"));
    BOOST_TEST(!parses("GET /x HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n"));
    // An empty body is no body.
    BOOST_TEST(parses("GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"));
    BOOST_TEST(parses("GET /x HTTP/1.1\r\nHost: h\r\ncontent-length:  0 \r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(FoldedHeaderLinesAreRefused) {
    BOOST_TEST(!parses("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n"));
    BOOST_TEST(!parses("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n\ttwo\r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(MalformedRequestLinesAreRefused) {
    BOOST_TEST(!parses("GET /\r\nHost: h\r\n\r\n"));                // no version
    BOOST_TEST(!parses("GARBAGE\r\nHost: h\r\n\r\n"));              // one word
    BOOST_TEST(!parses("GET / HTTP/1.1 more\r\nHost: h\r\n\r\n"));  // four words
    BOOST_TEST(!parses("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"));   // starts blank
    BOOST_TEST(!parses("\r\n\r\n"));                                // nothing
    BOOST_TEST(!parses(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"));      // empty method
    BOOST_TEST(!parses("GET  HTTP/1.1\r\nHost: h\r\n\r\n"));        // empty target
}

BOOST_AUTO_TEST_CASE(MoreThanMaxHeadersAreRefused) {
    auto with_headers = [](std::size_t count) {
        std::string bytes = "GET / HTTP/1.1\r\n";
        for (std::size_t i = 0; i < count; ++i)
            bytes += "X-H" + std::to_string(i) + ": v" + std::to_string(i) + "\r\n";
        return bytes + "\r\n";
    };
    const std::string most = with_headers(RequestHead::kMaxHeaders);
    RequestHead head;
    BOOST_REQUIRE(parse_request_head(most, head));
    BOOST_TEST(head.header_count == RequestHead::kMaxHeaders);
    BOOST_TEST(head.header("x-h47") == "v47");
    BOOST_TEST(!parses(with_headers(RequestHead::kMaxHeaders + 1)));
    BOOST_TEST(!parses(with_headers(200)));
}

BOOST_AUTO_TEST_CASE(MalformedHeadersAreRefused) {
    BOOST_TEST(!parses("GET / HTTP/1.1\r\nHost h\r\n\r\n"));             // no colon
    BOOST_TEST(!parses("GET / HTTP/1.1\r\nHost: h\r\nX-Flag\r\n\r\n"));  // no colon, later
    BOOST_TEST(!parses("GET / HTTP/1.1\r\n: no name\r\n\r\n"));          // empty name
    BOOST_TEST(!parses("GET / HTTP/1.1\r\nBad Name: v\r\n\r\n"));        // a blank in the name
    using namespace std::string_literals;  // a NUL is no token character
    BOOST_TEST(!parses("GET / HTTP/1.1\r\nX-A\0b: v\r\n\r\n"s));
    BOOST_TEST(!parses("GE\0T / HTTP/1.1\r\nHost: h\r\n\r\n"s));
}

BOOST_AUTO_TEST_CASE(AppendResponseStartWritesStatusDateAndConnection) {
    std::string response = "before|";
    append_response_start(response, "200 OK", true);
    BOOST_TEST(response.rfind("before|HTTP/1.1 200 OK\r\n", 0) == 0u);  // appends
    BOOST_TEST(response.size() >= 2u);
    BOOST_TEST(response.substr(response.size() - 2) == "\r\n");  // a whole line last,
    BOOST_TEST(response.find("\r\n\r\n") == std::string::npos);  // and no blank line yet

    auto header = [](const std::string& text, std::string_view name) -> std::string {
        std::size_t start = text.find("\r\n");
        while (start != std::string::npos && start + 2 < text.size()) {
            const std::size_t end = text.find("\r\n", start + 2);
            const std::string line = text.substr(start + 2, end - start - 2);
            const std::size_t colon = line.find(':');
            if (colon != std::string::npos && iequals(line.substr(0, colon), name)) {
                std::string value = line.substr(colon + 1);
                value.erase(0, value.find_first_not_of(' '));
                return value;
            }
            start = end;
        }
        return {};
    };
    // As Poco writes it: Date in the HTTP format, Connection: Keep-Alive or Close.
    BOOST_TEST(std::regex_match(header(response, "Date"),
                                std::regex(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} )"
                                           R"(\d{2}:\d{2}:\d{2} GMT)")),
               "Date: " << header(response, "Date"));
    BOOST_TEST(iequals(header(response, "Connection"), "keep-alive"),
               "Connection: " << header(response, "Connection"));

    std::string closing;
    append_response_start(closing, "304 Not Modified", false);
    BOOST_TEST(closing.rfind("HTTP/1.1 304 Not Modified\r\n", 0) == 0u);
    BOOST_TEST(iequals(header(closing, "Connection"), "close"),
               "Connection: " << header(closing, "Connection"));
}

BOOST_AUTO_TEST_SUITE_END()

// =============================================================================================
BOOST_AUTO_TEST_SUITE(FastAnswersOnTheLoop)

BOOST_AUTO_TEST_CASE(AFastRequestIsAnsweredWithoutPoco) {
    TestFront server;
    BOOST_TEST(server.front().port() == server.port());
    Client client = server.connect();
    const Response r = ask(client, get("/fast"));
    expect_fast(r);
    BOOST_TEST(r.header("Content-Type") == "text/plain");
    BOOST_TEST(r.has_header("Date"));
    BOOST_TEST(iequals(r.header("Connection"), "keep-alive"), r.header("Connection"));
    BOOST_TEST(server.state().fast_answers.load() == 1);
    BOOST_TEST(server.state().poco_requests.load() == 0);
    BOOST_TEST(client.quiet_now());  // nothing more was sent, and the connection stays
}

BOOST_AUTO_TEST_CASE(FastRequestsShareAKeepAliveConnection) {
    TestFront server;
    Client client = server.connect();
    for (int i = 0; i < 5; ++i) expect_fast(ask(client, get("/fast")));
    BOOST_TEST(server.state().fast_answers.load() == 5);
    BOOST_TEST(server.state().poco_requests.load() == 0);
    BOOST_TEST(server.front().handed_connections() == 0);
    BOOST_TEST(wait_until([&] { return server.front().held_connections() == 1; }));
}

BOOST_AUTO_TEST_CASE(PipelinedRequestsAreAnsweredInOrder) {
    TestFront server;
    Client client = server.connect();
    BOOST_REQUIRE(client.send_all(get("/fast") + get("/fast") + get("/slow")));
    expect_fast(client.read_response());
    expect_fast(client.read_response());
    expect_slow(client.read_response(), "slow GET /slow 0");
    BOOST_TEST(server.state().fast_answers.load() == 2);
    BOOST_TEST(server.state().poco_requests.load() == 1);  // Poco saw only the request it answered
}

BOOST_AUTO_TEST_CASE(PipelinedRequestsWithABodyInTheMiddle) {
    // After the POST goes to Poco, the connection is Poco's: the last GET /fast too.
    TestFront server;
    Client client = server.connect();
    BOOST_REQUIRE(client.send_all(get("/fast") + post("/upload", "0123456789") + get("/fast")));
    expect_fast(client.read_response());
    expect_slow(client.read_response(), "slow POST /upload 10");
    expect_slow(client.read_response(), "slow GET /fast 0");
    BOOST_TEST(server.state().fast_answers.load() == 1);
    BOOST_TEST(server.state().poco_requests.load() == 2);
}

BOOST_AUTO_TEST_CASE(AfterAHandOverTheConnectionStaysWithPoco) {
    TestFront server;
    Client client = server.connect();
    expect_fast(ask(client, get("/fast")));
    expect_slow(ask(client, get("/other")), "slow GET /other 0");
    expect_slow(ask(client, get("/fast")), "slow GET /fast 0");
    BOOST_TEST(server.front().handed_connections() == 1);
    BOOST_TEST(server.state().fast_answers.load() == 1);
    client.close();
    BOOST_TEST(server.settles());
}

BOOST_AUTO_TEST_CASE(ThousandsOfPipelinedFastRequestsAreAllAnswered) {
    // More answers than the socket buffers hold while the client is still sending: the loop
    // must wait for the client to read, keep their order, and hand the last request over only
    // after every answer before it is written.
    constexpr int kCount = 3000;
    TestFront server;
    Client client = server.connect();
    std::string requests;
    for (int i = 0; i < kCount; ++i) requests += get("/fast");
    requests += get("/slow");
    std::atomic<bool> sent{false};
    std::thread sender([&] { sent = client.send_all(requests); });
    int fast = 0;
    Response last;
    for (int i = 0; i < kCount; ++i) {
        const Response r = client.read_response();
        if (!r.complete || r.body != "fast") {
            BOOST_TEST_MESSAGE("answer " << i << ": " << r.error << " " << r.body);
            last = r;
            break;
        }
        ++fast;
    }
    if (fast == kCount) last = client.read_response();
    sender.join();
    BOOST_TEST(sent.load());
    BOOST_TEST(fast == kCount);
    expect_slow(last, "slow GET /slow 0");
    BOOST_TEST(server.state().poco_requests.load() == 1);
}

BOOST_AUTO_TEST_CASE(AHeadSentByteByByteIsAnswered) {
    TestFront server;
    Client client = server.connect();
    for (char c : get("/fast")) {
        BOOST_REQUIRE(client.send_all(std::string_view(&c, 1)));
        std::this_thread::sleep_for(5ms);
    }
    expect_fast(client.read_response());
    BOOST_TEST(server.state().poco_requests.load() == 0);
}

BOOST_AUTO_TEST_CASE(ConnectionCloseEndsTheConnectionAfterTheAnswer) {
    TestFront server;
    {
        Client client = server.connect();
        const Response r = ask(client, get("/fast", "Connection: close\r\n"));
        expect_fast(r);
        BOOST_TEST(iequals(r.header("Connection"), "close"), r.header("Connection"));
        BOOST_TEST(client.wait_end(Clock::now() + kPatience) == End::Eof);
    }
    {
        Client client = server.connect();  // Poco's clients say "Close"
        expect_fast(ask(client, get("/fast", "Connection: Close\r\n")));
        BOOST_TEST(client.wait_end(Clock::now() + kPatience) == End::Eof);
    }
    {
        Client client = server.connect();
        const Response r = ask(client, get("/other", "Connection: close\r\n"));
        expect_slow(r, "slow GET /other 0");
        const End end = client.wait_end(Clock::now() + kPatience);
        BOOST_TEST((end == End::Eof || end == End::Reset), end);
    }
    BOOST_TEST(server.state().fast_answers.load() == 2);
}

BOOST_AUTO_TEST_CASE(EachFastAnswersObjectIsUsedByOneThread) {
    TestFront server;  // two loops
    std::vector<Client> clients;
    for (int i = 0; i < 20; ++i) {
        clients.push_back(server.connect());
        expect_fast(ask(clients.back(), get("/fast")));
    }
    for (auto& client : clients) expect_fast(ask(client, get("/fast")));
    BOOST_TEST(server.state().fast_answers.load() == 40);
    BOOST_TEST(server.state().shared_objects.load() == 0);
    BOOST_TEST(server.state().fast_objects.load() >= 1);
    BOOST_TEST(server.state().fast_objects.load() <= 2);  // one per loop
}

BOOST_AUTO_TEST_SUITE_END()

// =============================================================================================
BOOST_AUTO_TEST_SUITE(HandedToPoco)

BOOST_AUTO_TEST_CASE(OtherRequestsAreAnsweredByPocosHandler) {
    TestFront server;
    struct Case {
        std::string request;
        std::string answer;
    };
    const std::vector<Case> cases = {
        {get("/other"), "slow GET /other 0"},
        {get("/fast?x=1"), "slow GET /fast?x=1 0"},  // FastAnswers said no
        {post("/upload", "0123456789"), "slow POST /upload 10"},
        {post("/fast", "0123456789"), "slow POST /fast 10"},
        {"POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
         "4\r\n0123\r\n6\r\n456789\r\n0\r\n\r\n",
         "slow POST /chunked 10"},
        {"GET /fast HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", "slow GET /fast 3"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.answer) {
            Client client = server.connect();
            expect_slow(ask(client, c.request), c.answer);
        }
    }
    BOOST_TEST(server.state().fast_answers.load() == 0);
    BOOST_TEST(server.state().poco_requests.load() == int(cases.size()));
}

BOOST_AUTO_TEST_CASE(Http10GoesToPoco) {
    TestFront server;
    Client client = server.connect();
    const Response r = ask(client, "GET /fast HTTP/1.0\r\nHost: h\r\n\r\n");
    BOOST_REQUIRE_MESSAGE(r.complete, r.error);
    BOOST_TEST(r.body == "slow GET /fast 0");
    BOOST_TEST(server.state().fast_answers.load() == 0);
}

BOOST_AUTO_TEST_CASE(AHeadWithBareLineFeedsGoesToPocoAtOnce) {
    // Not a head the loop reads, but one Poco does: it must not wait for the head timeout.
    FrontOptions options;
    options.limits.head_timeout = 30s;
    TestFront server(options);
    Client client = server.connect();
    const Response r = ask(client, "GET /fast HTTP/1.1\nHost: h\n\n");
    BOOST_REQUIRE_MESSAGE(r.complete, r.error);
    BOOST_TEST(r.body == "slow GET /fast 0");
}

BOOST_AUTO_TEST_CASE(ABigBodyIsHandedOverWhole) {
    TestFront server;
    Client client = server.connect();
    expect_slow(ask(client, post("/big", std::string(300'000, 'b'))), "slow POST /big 300000");
}

BOOST_AUTO_TEST_CASE(WithoutFastAnswersEverythingGoesToPoco) {
    FrontOptions options;
    options.fast = false;
    TestFront server(options);
    Client client = server.connect();
    expect_slow(ask(client, get("/fast")), "slow GET /fast 0");
    expect_slow(ask(client, get("/fast")), "slow GET /fast 0");
    BOOST_TEST(server.state().fast_objects.load() == 0);
}

BOOST_AUTO_TEST_CASE(AHeadOverEightKiBGetsPocosBadRequest) {
    TestFront server;
    {
        // Under the loop's 8 KiB: still the loop's.
        Client client = server.connect();
        expect_fast(ask(client, get("/fast", "X-Big: " + std::string(6000, 'a') + "\r\n")));
    }
    {
        Client client = server.connect();
        const Response r = ask(client, get("/fast", "X-Big: " + std::string(9000, 'a') + "\r\n"));
        BOOST_REQUIRE_MESSAGE(r.complete, r.error);
        BOOST_TEST(r.status_line.rfind("HTTP/1.1 4", 0) == 0u, r.status_line);
    }
    BOOST_TEST(server.state().fast_answers.load() == 1);
    BOOST_TEST(server.state().poco_requests.load() == 0);  // Poco refused it before any handler
    Client client = server.connect();
    expect_fast(ask(client, get("/fast")));  // and the server goes on
}

BOOST_AUTO_TEST_SUITE_END()

// =============================================================================================
BOOST_AUTO_TEST_SUITE(Timeouts)

BOOST_AUTO_TEST_CASE(SilentConnectionsHoldNoThreadsAndCloseWhenIdle) {
    constexpr int kSilent = 50;
    FrontOptions options;
    options.max_threads = 2;
    options.limits.head_timeout = 30s;  // the idle timeout alone closes a silent connection
    options.limits.idle_timeout = 3s;
    TestFront server(options);
    const auto opened = Clock::now();
    std::vector<Client> silent;
    for (int i = 0; i < kSilent; ++i) silent.push_back(server.connect());
    const auto all_open = Clock::now();
    BOOST_TEST(
        wait_until([&] { return server.front().held_connections() >= std::size_t(kSilent); }),
        "held: " << server.front().held_connections());

    // Both kinds of request are answered promptly though 50 connections wait: none of them
    // holds one of the 2 threads.
    Client fast = server.connect();
    auto start = Clock::now();
    expect_fast(ask(fast, get("/fast")));
    BOOST_TEST(ms(Clock::now() - start) < 5000);
    Client slow = server.connect();
    start = Clock::now();
    expect_slow(ask(slow, get("/other")), "slow GET /other 0");
    expect_slow(ask(slow, get("/other")), "slow GET /other 0");
    BOOST_TEST(ms(Clock::now() - start) < 5000);
    Client slow2 = server.connect();
    expect_slow(ask(slow2, get("/other")), "slow GET /other 0");
    BOOST_TEST(server.front().handed_connections() == 2);
    if (Clock::now() - opened < 1500ms) {  // surely before the idle timeout
        BOOST_TEST(server.front().held_connections() == std::size_t(kSilent + 1));
        BOOST_TEST(silent.front().quiet_now());
        BOOST_TEST(silent.back().quiet_now());
    } else {
        BOOST_TEST_MESSAGE("too slow to check the held count before the idle timeout");
    }
    fast.close();
    slow.close();
    slow2.close();

    // After the idle timeout the loops close them, with a FIN.
    int eof = 0;
    for (auto& client : silent) {
        const End end = client.wait_end(all_open + options.limits.idle_timeout + kPatience);
        if (end == End::Eof) {
            ++eof;
        } else {
            BOOST_TEST_MESSAGE("a silent connection ended with " << end);
        }
    }
    const auto closed = Clock::now();
    BOOST_TEST(eof == kSilent);
    // Not before the idle timeout (less a margin for a loop's coarse clock).
    BOOST_TEST(ms(closed - opened) >= 2250, ms(closed - opened) << " ms");
    BOOST_TEST(server.settles(), "held " << server.front().held_connections() << ", handed "
                                         << server.front().handed_connections());
}

BOOST_AUTO_TEST_CASE(AKeptConnectionClosesAfterTheIdleTimeout) {
    FrontOptions options;
    options.limits.head_timeout = 30s;
    options.limits.idle_timeout = 1s;
    TestFront server(options);
    Client client = server.connect();
    expect_fast(ask(client, get("/fast")));
    const auto answered = Clock::now();
    const End end = client.wait_end(answered + kPatience);
    BOOST_TEST(end == End::Eof);
    BOOST_TEST(ms(Clock::now() - answered) >= 500, ms(Clock::now() - answered) << " ms");
    BOOST_TEST(server.settles());
}

BOOST_AUTO_TEST_CASE(APartialHeadIsClosedAfterTheHeadTimeout) {
    FrontOptions options;
    options.limits.head_timeout = 1s;
    options.limits.idle_timeout = 30s;  // closing within kPatience is the head timeout's doing
    TestFront server(options);
    {
        Client client = server.connect();
        BOOST_REQUIRE(client.send_all("GET /fast HTTP/1.1\r\nHost: x\r\n"));
        const auto sent = Clock::now();
        const End end = client.wait_end(sent + kPatience);
        // The unread partial head may turn the close into a reset.
        BOOST_TEST((end == End::Eof || end == End::Reset), end);
        BOOST_TEST(ms(Clock::now() - sent) >= 750, ms(Clock::now() - sent) << " ms");
    }
    {
        // The same for a second request on a kept connection.
        Client client = server.connect();
        expect_fast(ask(client, get("/fast")));
        BOOST_REQUIRE(client.send_all("GET /fast HTTP/1.1\r\n"));
        const End end = client.wait_end(Clock::now() + kPatience);
        BOOST_TEST((end == End::Eof || end == End::Reset), end);
    }
    BOOST_TEST(server.state().fast_answers.load() == 1);
    BOOST_TEST(server.state().poco_requests.load() == 0);
    BOOST_TEST(server.settles());
}

BOOST_AUTO_TEST_CASE(AHeadInTwoWritesWithinTheTimeoutIsAnswered) {
    FrontOptions options;
    options.limits.head_timeout = 2s;
    options.limits.idle_timeout = 30s;
    TestFront server(options);
    Client client = server.connect();
    BOOST_REQUIRE(client.send_all("GET /fast HTTP/1.1\r\nHost: x\r\n"));
    std::this_thread::sleep_for(200ms);
    BOOST_REQUIRE(client.send_all("\r\n"));
    expect_fast(client.read_response());
    // The timeout runs from a head's first byte, so a second one gets the whole time again.
    std::this_thread::sleep_for(500ms);
    BOOST_REQUIRE(client.send_all("GET /fast HTTP/1.1\r\n"));
    std::this_thread::sleep_for(200ms);
    BOOST_REQUIRE(client.send_all("Host: x\r\n\r\n"));
    expect_fast(client.read_response());
}

BOOST_AUTO_TEST_CASE(AHeadTrickledSlowlyIsClosedAfterTheHeadTimeout) {
    // Every line in time for an idle timeout, but the head never ends: the head timeout runs
    // from its first byte.
    FrontOptions options;
    options.limits.head_timeout = 1s;
    options.limits.idle_timeout = 30s;
    TestFront server(options);
    Client client = server.connect();
    BOOST_REQUIRE(client.send_all("GET /fast HTTP/1.1\r\n"));
    const auto first = Clock::now();
    End end = End::Timeout;
    for (int i = 0; i < 40 && end == End::Timeout; ++i) {  // 40 lines: under kMaxHeaders
        if (!client.send_all("X-" + std::to_string(i) + ": v\r\n")) break;
        end = client.wait_end(Clock::now() + 250ms);
    }
    if (end == End::Timeout) end = client.wait_end(Clock::now() + 1s);
    BOOST_TEST((end == End::Eof || end == End::Reset || end == End::Error), end);
    BOOST_TEST(ms(Clock::now() - first) < 8000);
    BOOST_TEST(server.state().fast_answers.load() == 0);
    BOOST_TEST(server.state().poco_requests.load() == 0);
}

BOOST_AUTO_TEST_CASE(MaxConnectionsBoundsWhatTheLoopsHold) {
    // A flood of silent connections cannot lock a new client out: beyond the limit, the loops
    // close the connections silent longest.
    FrontOptions options;
    options.limits.max_connections = 4;  // two loops, two each
    TestFront server(options);
    std::vector<Client> silent;
    std::size_t most_held = 0;
    for (int i = 0; i < 20; ++i) {
        silent.push_back(server.connect());
        most_held = std::max(most_held, server.front().held_connections());
    }
    const auto closed = [&] {
        int count = 0;
        for (auto& client : silent) count += client.quiet_now() ? 0 : 1;
        return count;
    };
    BOOST_TEST(wait_until([&] { return closed() >= 16; }), closed() << " closed");
    most_held = std::max(most_held, server.front().held_connections());
    BOOST_TEST(most_held <= 4u);
    Client client = server.connect();
    expect_fast(ask(client, get("/fast")));
    BOOST_TEST(server.front().held_connections() <= 4u);
}

BOOST_AUTO_TEST_SUITE_END()

// =============================================================================================
BOOST_AUTO_TEST_SUITE(Lifecycle)

BOOST_AUTO_TEST_CASE(StopClosesIdleConnectionsAndLetsAnswersFinish) {
    TestFront server;
    BOOST_TEST(server.front().port() == server.port());
    std::vector<Client> idle;
    for (int i = 0; i < 5; ++i) idle.push_back(server.connect());
    Client kept = server.connect();  // a kept connection after a fast answer
    expect_fast(ask(kept, get("/fast")));
    BOOST_TEST(wait_until([&] { return server.front().held_connections() >= 6; }));
    BOOST_TEST(server.front().port() == server.port());

    Client busy = server.connect();
    BOOST_REQUIRE(busy.send_all(get("/sleep")));
    BOOST_REQUIRE(wait_until([&] { return server.state().sleepers.load() == 1; }));

    const auto start = Clock::now();
    server.front().stop();
    const auto took = Clock::now() - start;
    BOOST_TEST_MESSAGE("stop() took " << ms(took) << " ms");
    BOOST_TEST(ms(took) < 5000);

    expect_slow(busy.read_response(), "slow GET /sleep 0");
    const End busy_end = busy.wait_end(Clock::now() + kPatience);
    BOOST_TEST((busy_end == End::Eof || busy_end == End::Reset), busy_end);
    for (auto& client : idle) BOOST_TEST(client.wait_end(Clock::now() + 5s) == End::Eof);
    BOOST_TEST(kept.wait_end(Clock::now() + 5s) == End::Eof);
    BOOST_TEST(server.front().held_connections() == 0u);

    // Nothing more is answered (the connect may fail, or wait in a backlog nobody accepts).
    Client late(server.port());
    if (late.connected() && late.send_all(get("/fast"))) {
        const Response r = late.read_response(Clock::now() + 1s);
        BOOST_TEST(!r.complete, "answered after stop: " << r.status_line);
    }
}

BOOST_AUTO_TEST_CASE(StopWithNothingToDoIsQuick) {
    TestFront server;
    expect_fast([&] {
        Client client = server.connect();
        return ask(client, get("/fast"));
    }());
    const auto start = Clock::now();
    server.front().stop();
    BOOST_TEST(ms(Clock::now() - start) < 2000);
}

BOOST_AUTO_TEST_CASE(DestroyingARunningFrontStopsIt) {
    std::vector<Client> clients;
    {
        TestFront server;
        for (int i = 0; i < 3; ++i) clients.push_back(server.connect());
        expect_fast(ask(clients[0], get("/fast")));
        expect_slow(ask(clients[1], get("/other")), "slow GET /other 0");
        BOOST_TEST(wait_until([&] { return server.front().held_connections() >= 2; }));
    }
    for (auto& client : clients) {
        const End end = client.wait_end(Clock::now() + 5s);
        BOOST_TEST((end == End::Eof || end == End::Reset), end);
    }
}

BOOST_AUTO_TEST_CASE(ClientsThatGoAwayEarlyDoNotDisturbOthers) {
    FrontOptions options;
    // A client gone in the middle of a head is let go when its end is seen (EPOLLRDHUP), not
    // at the head timeout: the peek alone would show the unread bytes forever.
    options.limits.head_timeout = 30s;
    TestFront server(options);
    for (int round = 0; round < 10; ++round) {
        {  // closes right after a fast request
            Client c = server.connect();
            BOOST_REQUIRE(c.send_all(get("/fast")));
        }
        {  // resets right after a fast request
            Client c = server.connect();
            BOOST_REQUIRE(c.send_all(get("/fast")));
            c.reset();
        }
        {  // closes right after a request for Poco
            Client c = server.connect();
            BOOST_REQUIRE(c.send_all(get("/other")));
        }
        {  // closes in the middle of a head
            Client c = server.connect();
            BOOST_REQUIRE(c.send_all("GET /fast HTTP/1.1\r\nHo"));
        }
        {  // closes in the middle of a body
            Client c = server.connect();
            BOOST_REQUIRE(
                c.send_all("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n"
                           "0123456789"));
        }
        {  // closes without a word
            Client c = server.connect();
        }
    }
    Client fast = server.connect();
    expect_fast(ask(fast, get("/fast")));
    Client slow = server.connect();
    expect_slow(ask(slow, get("/other")), "slow GET /other 0");
    fast.close();
    slow.close();
    BOOST_TEST(server.settles(), "held " << server.front().held_connections() << ", handed "
                                         << server.front().handed_connections());
}

BOOST_AUTO_TEST_CASE(AResetWhileTheLoopWritesRaisesNoSigpipe) {
    TestFront server;
    const int before = g_sigpipes;
    for (int round = 0; round < 5; ++round) {
        // Answers the client never reads, then a reset while the loop still has them to write.
        Client c = server.connect();
        std::string requests;
        for (int i = 0; i < 1000; ++i) requests += get("/fast");
        BOOST_REQUIRE(c.send_all(requests));
        std::this_thread::sleep_for(20ms);
        c.reset();
    }
    BOOST_TEST(wait_until([&] { return server.front().held_connections() == 0; }));
    BOOST_TEST(g_sigpipes.load() - before == 0);
    Client client = server.connect();
    expect_fast(ask(client, get("/fast")));
}

BOOST_AUTO_TEST_SUITE_END()
