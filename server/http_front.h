// HttpFront: how ferryd (site or DP) takes HTTP connections.
//
// Poco's HTTPServer gives every connection a thread from accept to close, and a thread is busy
// while the connection sends nothing. That made two things impossible: a few dozen silent
// connections took every thread (a port scanner or a client on a bad link stopped the server),
// and an idle policy poll — the request every agent makes every minute — cost about 24 µs of
// Poco's request machinery before any of ours.
//
// On plain HTTP the front therefore holds connections in epoll loops (one per core) until a
// whole request head has arrived. It reads the head with MSG_PEEK, so nothing is taken from
// the socket yet, and asks the role's FastAnswers whether it can answer the request outright
// (for the site: an idle poll, a 304). If so, the loop consumes the head and writes the answer,
// and the connection stays in the loop for its next request. Otherwise — any other route, a
// body, HTTP/1.0, anything unusual — the socket, with the request still unread in it, goes to
// Poco's HTTPServerConnection on a worker thread, exactly as if Poco had accepted it; that
// connection stays with Poco until it closes. So every answer but the fast ones is Poco's, and
// a fast answer is given only when it is the answer Poco's handler would have given.
//
// A connection that has not sent a whole head within the head timeout, or sends nothing for the
// idle timeout between requests, is closed by the loop; a silent connection costs a file
// descriptor and a few hundred bytes, never a thread.
//
// With TLS the bytes are encrypted and cannot be peeked at: the front is then Poco's
// HTTPServer unchanged (a thread per connection, 10 s timeouts; see listen_socket.h).
#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServerDispatcher.h>
#include <Poco/ThreadPool.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ferry::server {

// A complete HTTP/1.1 request head without a body, as the loop saw it. The views point into
// the loop's buffer and are valid only during FastAnswers::answer.
struct RequestHead {
    static constexpr std::size_t kMaxHeaders = 48;
    std::string_view method;
    std::string_view target;  // as sent: path and query
    bool keep_alive = true;   // false when the request said "Connection: close"
    std::size_t header_count = 0;
    std::string_view names[kMaxHeaders];
    std::string_view values[kMaxHeaders];  // without surrounding blanks

    // The first header of that name (compared without regard to case); empty when absent.
    std::string_view header(std::string_view name) const;
};

// Parses `bytes` (one head, ending with the blank line) into `head`. False when it is not a
// plain HTTP/1.1 request head that the loop may answer: a malformed request line or header,
// another HTTP version, folded header lines, too many headers, or a request with a body
// (Content-Length other than 0, or Transfer-Encoding). Such requests go to Poco, which answers
// them as it always did.
bool parse_request_head(std::string_view bytes, RequestHead& head);

// What a role answers on the loop, without Poco. One object per loop thread, used by that
// thread only; answer() must not block for long (it holds up every connection of its loop).
class FastAnswers {
  public:
    virtual ~FastAnswers() = default;
    // Appends a complete HTTP response to `response` and returns true, or returns false (and
    // leaves `response` alone) to let Poco's handler answer the request.
    virtual bool answer(const RequestHead& head, std::string& response) = 0;
};
using FastAnswersMaker = std::function<std::unique_ptr<FastAnswers>()>;

// Appends "HTTP/1.1 <status>", Date and Connection, as Poco's server writes them; the caller
// appends its own headers and the blank line.
void append_response_start(std::string& response, std::string_view status, bool keep_alive);

// The route factory of a front: Poco's factory plus a way to tell the connections it serves
// that the server stops (Poco raises that event only from its own HTTPServer).
class FrontRouteFactory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    // Connections end after their current request; with `abort`, their sockets are shut down.
    void stop_connections(bool abort) { serverStopped(this, abort); }
};

class HttpFront {
  public:
    struct Limits {
        std::chrono::milliseconds head_timeout{10'000};  // for a whole head, from its first byte
        std::chrono::milliseconds idle_timeout{10'000};  // between requests
        std::size_t max_connections = 10'000;            // held by the loops together
        std::size_t loops = 0;                           // 0: one per core
    };

    // Serves `socket` (bound and listening). `factory` answers what the loops hand over, with
    // `params` (threads, queue, timeouts) as for Poco's HTTPServer; `fast` may be empty.
    HttpFront(Poco::Net::ServerSocket socket, Poco::SharedPtr<FrontRouteFactory> factory,
              Poco::Net::HTTPServerParams::Ptr params, FastAnswersMaker fast, Limits limits);
    HttpFront(Poco::Net::ServerSocket socket, Poco::SharedPtr<FrontRouteFactory> factory,
              Poco::Net::HTTPServerParams::Ptr params, FastAnswersMaker fast)
        : HttpFront(std::move(socket), std::move(factory), std::move(params), std::move(fast),
                    Limits{}) {}
    ~HttpFront();
    HttpFront(const HttpFront&) = delete;
    HttpFront& operator=(const HttpFront&) = delete;

    void start();
    // Stops accepting and closes the connections the loops hold; lets requests Poco is
    // answering finish for up to 2 s, then aborts them (and waits up to 5 s more).
    void stop();
    std::uint16_t port() const;
    // Connections held by the loops now (for tests and metrics).
    std::size_t held_connections() const;
    // Connections Poco's threads are serving or have queued.
    int handed_connections() const;

  private:
    class Loop;
    void hand_over(int fd);

    Poco::Net::ServerSocket socket_;
    Poco::SharedPtr<FrontRouteFactory> factory_;
    Poco::Net::HTTPServerParams::Ptr params_;
    FastAnswersMaker fast_;
    Limits limits_;
    std::unique_ptr<Poco::Net::HTTPServer> tls_server_;  // TLS: Poco alone
    std::unique_ptr<Poco::ThreadPool> threads_;
    Poco::Net::TCPServerDispatcher* dispatcher_ = nullptr;  // reference-counted by Poco
    std::vector<std::unique_ptr<Loop>> loops_;
    bool started_ = false;
    bool stopped_ = false;
};

}  // namespace ferry::server
