// download_object against a real Poco HTTP(S) server in this process, on 127.0.0.1 only, whose
// behaviour each test sets: a well-behaved source, and sources that ignore Range, lie about the
// bytes, send too much or forever, cut off, stall, trickle, or refuse (THREATS 14-16).
#define BOOST_TEST_MODULE object_download
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "expect_error.h"
#include "ferry/hash.h"
#include "ferry/object_download.h"
#include "run_process.h"
#include "temp_dir.h"

using namespace ferry;
using namespace std::chrono_literals;
using ferry::test::expect_error;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

namespace {

struct IgnoreSigpipe {
    // The test server writes to connections the downloader has dropped on purpose.
    IgnoreSigpipe() { std::signal(SIGPIPE, SIG_IGN); }
};

struct Seen {
    std::string uri;
    std::string range;
    std::string authorization;
};

struct ServerState;
using Handler = std::function<void(HTTPServerRequest&, HTTPServerResponse&, ServerState&)>;

struct ServerState {
    std::mutex mutex;
    std::condition_variable changed;
    Handler handler;
    std::vector<Seen> seen;
    int active = 0;
    bool stopping = false;

    // Sleeps for `d`, or less when the server is being stopped; false once it is.
    bool nap(std::chrono::milliseconds d) {
        std::unique_lock<std::mutex> lock(mutex);
        return !changed.wait_for(lock, d, [&] { return stopping; });
    }
    bool stopped() {
        std::lock_guard<std::mutex> lock(mutex);
        return stopping;
    }
};

class Dispatch : public Poco::Net::HTTPRequestHandler {
  public:
    explicit Dispatch(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}
    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
        Handler handler;
        {
            std::lock_guard<std::mutex> lock(state_->mutex);
            state_->seen.push_back(
                {request.getURI(), request.get("Range", ""), request.get("Authorization", "")});
            handler = state_->handler;
            ++state_->active;
        }
        response.setKeepAlive(false);
        try {
            handler(request, response, *state_);
        } catch (...) {
            // The downloader hung up: expected in most of these tests.
        }
        {
            std::lock_guard<std::mutex> lock(state_->mutex);
            --state_->active;
        }
        state_->changed.notify_all();
    }

  private:
    std::shared_ptr<ServerState> state_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    explicit Factory(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
        return new Dispatch(state_);
    }

  private:
    std::shared_ptr<ServerState> state_;
};

// An HTTP server on 127.0.0.1 and an ephemeral port; with a context, HTTPS.
class TestServer {
  public:
    explicit TestServer(Poco::Net::Context::Ptr tls = nullptr) {
        const Poco::Net::SocketAddress address("127.0.0.1", 0);
        const Poco::Net::ServerSocket socket = tls ? Poco::Net::SecureServerSocket(address, 64, tls)
                                                   : Poco::Net::ServerSocket(address);
        port_ = socket.address().port();
        auto* params = new Poco::Net::HTTPServerParams;
        params->setKeepAlive(false);
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(state_), socket, params);
        server_->start();
        url_ = std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
    }
    ~TestServer() {
        {
            std::lock_guard<std::mutex> lock(state_->mutex);
            state_->stopping = true;
        }
        state_->changed.notify_all();
        // Poco's accept loop looks at its stop flag every 250 ms, or when a connection comes:
        // one comes just after the flag is set, so that each test does not wait for the loop.
        std::thread poke([port = port_] {
            std::this_thread::sleep_for(20ms);
            try {
                Poco::Net::StreamSocket(Poco::Net::SocketAddress("127.0.0.1", port));
            } catch (const Poco::Exception&) {
            }
        });
        server_->stopAll(true);
        poke.join();
        std::unique_lock<std::mutex> lock(state_->mutex);
        state_->changed.wait_for(lock, 10s, [&] { return state_->active == 0; });
    }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    const std::string& url() const { return url_; }
    void set(Handler handler) {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->handler = std::move(handler);
    }
    std::vector<Seen> seen() const {
        std::lock_guard<std::mutex> lock(state_->mutex);
        return state_->seen;
    }

  private:
    std::shared_ptr<ServerState> state_ = std::make_shared<ServerState>();
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    unsigned short port_ = 0;
    std::string url_;
};

// Deterministic bytes that do not compress or repeat.
std::string make_content(std::size_t size, std::uint32_t seed) {
    std::string out(size, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& c : out) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x & 0xff);
    }
    return out;
}

std::string id_of(const std::string& content) { return hash_bytes(content.data(), content.size()); }

std::uint64_t first_byte_asked(const HTTPServerRequest& request) {
    const std::string range = request.get("Range", "");
    if (range.rfind("bytes=", 0) != 0) return 0;
    return std::stoull(range.substr(6, range.find('-') - 6));
}

// A well-behaved source: `content`, honouring "Range: bytes=N-" (unless told to ignore it).
Handler serve(const std::string& content, bool honour_range = true) {
    return [content, honour_range](HTTPServerRequest& request, HTTPServerResponse& response,
                                   ServerState&) {
        const std::uint64_t first = honour_range ? first_byte_asked(request) : 0;
        if (honour_range && request.has("Range")) {
            response.setStatusAndReason(HTTPServerResponse::HTTP_PARTIAL_CONTENT);
            response.set("Content-Range", "bytes " + std::to_string(first) + "-" +
                                              std::to_string(content.size() - 1) + "/" +
                                              std::to_string(content.size()));
        }
        response.setContentLength64(static_cast<Poco::Int64>(content.size() - first));
        response.send().write(content.data() + first,
                              static_cast<std::streamsize>(content.size() - first));
    };
}

// Sends `content` in `chunk`-byte pieces every `interval` (from the asked Range), until done or
// the server stops.
Handler trickle(const std::string& content, std::size_t chunk, std::chrono::milliseconds interval) {
    return [=](HTTPServerRequest&, HTTPServerResponse& response, ServerState& state) {
        response.setContentLength64(static_cast<Poco::Int64>(content.size()));
        std::ostream& out = response.send();
        for (std::size_t at = 0; at < content.size() && out.good(); at += chunk) {
            out.write(content.data() + at,
                      static_cast<std::streamsize>(std::min(chunk, content.size() - at)));
            out.flush();
            if (!state.nap(interval)) return;
        }
    };
}

Handler status(int code, const std::string& message) {
    return [=](HTTPServerRequest&, HTTPServerResponse& response, ServerState&) {
        const std::string body = "{\"message\":\"" + message + "\"}";
        response.setStatusAndReason(static_cast<HTTPServerResponse::HTTPStatus>(code));
        response.setContentType("application/json");
        response.setContentLength(static_cast<std::streamsize>(body.size()));
        response.send() << body;
    };
}

// -1 when absent.
long long file_size(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

DownloadLimits quick_limits() {
    DownloadLimits limits;
    limits.connect_timeout = 1500ms;
    limits.read_timeout = 1s;
    limits.overall = 10s;
    limits.min_rate_window = 1500ms;
    return limits;
}

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(IgnoreSigpipe);

BOOST_AUTO_TEST_CASE(FullDownloadVerifiesAndRenames) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(300 * 1024, 1);
    const std::string id = id_of(content);
    server.set(serve(content));
    std::vector<std::uint64_t> reported;
    const DownloadResult r =
        download_object({server.url(), "tok_123"}, id, content.size(), dir.path(), {},
                        [&](std::uint64_t done, std::uint64_t total) {
                            BOOST_TEST(total == content.size());
                            reported.push_back(done);
                        });
    BOOST_TEST(r.bytes_fetched == content.size());
    BOOST_TEST(r.resumed_from == 0u);
    BOOST_TEST(!r.already_present);
    BOOST_TEST(test::read_file(dir / id) == content);
    BOOST_TEST(!test::path_exists(dir / (id + ".part")));
    BOOST_TEST(test::list_tree(dir.path()) == id + "\n");
    const auto seen = server.seen();
    BOOST_TEST_REQUIRE(seen.size() == 1u);
    BOOST_TEST(seen[0].uri == "/api/v1/objects/" + id);
    BOOST_TEST(seen[0].range.empty());
    BOOST_TEST(seen[0].authorization == "Bearer tok_123");
    BOOST_TEST_REQUIRE(!reported.empty());
    BOOST_TEST(reported.back() == content.size());
    BOOST_TEST(std::is_sorted(reported.begin(), reported.end()));
}

BOOST_AUTO_TEST_CASE(BaseUrlPathPrefixIsKept) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(1000, 2);
    server.set(serve(content));
    download_object({server.url() + "/mirror/", "t"}, id_of(content), content.size(), dir.path());
    BOOST_TEST(server.seen().at(0).uri == "/mirror/api/v1/objects/" + id_of(content));
}

BOOST_AUTO_TEST_CASE(ResumeSendsRangeAndFetchesOnlyTheRest) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(200 * 1024, 3);
    const std::string id = id_of(content);
    const std::size_t have = 70001;
    test::write_file(dir / (id + ".part"), content.substr(0, have));
    server.set(serve(content));
    const DownloadResult r = download_object({server.url(), "t"}, id, content.size(), dir.path());
    const auto seen = server.seen();
    BOOST_TEST_REQUIRE(seen.size() == 1u);
    BOOST_TEST(seen[0].range == "bytes=70001-");
    BOOST_TEST(r.resumed_from == have);
    BOOST_TEST(r.bytes_fetched == content.size() - have);
    BOOST_TEST(test::read_file(dir / id) == content);
    BOOST_TEST(!test::path_exists(dir / (id + ".part")));
}

BOOST_AUTO_TEST_CASE(ServerIgnoringRangeRestartsFromZero) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(100 * 1024, 4);
    const std::string id = id_of(content);
    test::write_file(dir / (id + ".part"), content.substr(0, 5000));
    server.set(serve(content, /*honour_range=*/false));
    const DownloadResult r = download_object({server.url(), "t"}, id, content.size(), dir.path());
    BOOST_TEST(server.seen().at(0).range == "bytes=5000-");
    BOOST_TEST(r.resumed_from == 0u);
    BOOST_TEST(r.bytes_fetched == content.size());
    BOOST_TEST(test::read_file(dir / id) == content);
}

BOOST_AUTO_TEST_CASE(WrongContentRangeIsRefusedAndThePartKept) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(10000, 5);
    const std::string id = id_of(content);
    test::write_file(dir / (id + ".part"), content.substr(0, 4000));
    server.set([&](HTTPServerRequest&, HTTPServerResponse& response, ServerState&) {
        response.setStatusAndReason(HTTPServerResponse::HTTP_PARTIAL_CONTENT);
        response.set("Content-Range", "bytes 0-9999/10000");  // not where we asked
        response.setContentLength64(10000);
        response.send().write(content.data(), 10000);
    });
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id, content.size(), dir.path());
        },
        ErrorCode::VerificationFailed, "asked for bytes=4000- and got 206");
    BOOST_TEST(test::read_file(dir / (id + ".part")) == content.substr(0, 4000));
    BOOST_TEST(!test::path_exists(dir / id));
}

BOOST_AUTO_TEST_CASE(RightLengthWrongBytesIsRefusedAndPurged) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(50000, 6);
    const std::string forged = make_content(50000, 7);
    const std::string id = id_of(content);
    server.set(serve(forged));
    const std::string message = expect_error(
        [&] {
            download_object({server.url(), "t"}, id, content.size(), dir.path());
        },
        ErrorCode::VerificationFailed,
        "object " + id + " from " + server.url() + ": bytes hash to " + id_of(forged));
    BOOST_TEST(!test::path_exists(dir / id));
    BOOST_TEST(!test::path_exists(dir / (id + ".part")));
    BOOST_TEST(test::list_tree(dir.path()).empty());
}

BOOST_AUTO_TEST_CASE(AnnouncedLongerBodyIsRefusedBeforeAnyByteIsWritten) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(20000, 8);
    const std::string id = id_of(content);
    server.set(serve(content + make_content(5000, 9), /*honour_range=*/false));
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id, content.size(), dir.path());
        },
        ErrorCode::VerificationFailed, "sent more than the declared 20000 bytes");
    BOOST_TEST(!test::path_exists(dir / id));
    BOOST_TEST(file_size(dir / (id + ".part")) <= 0);
}

BOOST_AUTO_TEST_CASE(EndlessBodyIsCutAtTheDeclaredSize) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(100000, 10);
    const std::string id = id_of(content);
    std::atomic<std::uint64_t> server_sent{0};
    server.set([&](HTTPServerRequest&, HTTPServerResponse& response, ServerState& state) {
        response.setChunkedTransferEncoding(true);  // no length: the body never ends
        std::ostream& out = response.send();
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        server_sent += content.size();
        const std::string more = make_content(64 * 1024, 11);
        while (out.good() && !state.stopped() && server_sent < (1u << 30)) {
            out.write(more.data(), static_cast<std::streamsize>(more.size()));
            out.flush();
            server_sent += more.size();
        }
    });
    long long largest_part = 0;
    const auto part = dir / (id + ".part");
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id, content.size(), dir.path(), {},
                            [&](std::uint64_t, std::uint64_t) {
                                largest_part = std::max(largest_part, file_size(part));
                            });
        },
        ErrorCode::VerificationFailed, "sent more than the declared 100000 bytes");
    BOOST_TEST(largest_part <= static_cast<long long>(content.size()));
    BOOST_TEST(largest_part == static_cast<long long>(content.size()));
    BOOST_TEST(!test::path_exists(dir / id));
    BOOST_TEST(!test::path_exists(part));
}

BOOST_AUTO_TEST_CASE(ShortBodyKeepsThePartAndTheNextCallCompletes) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(80000, 12);
    const std::string id = id_of(content);
    server.set([&](HTTPServerRequest&, HTTPServerResponse& response, ServerState&) {
        response.setContentLength64(static_cast<Poco::Int64>(content.size()));
        response.send().write(content.data(), 30000);  // then the connection closes
    });
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id, content.size(), dir.path());
        },
        ErrorCode::Io, "the answer ended after 30000 of 80000 bytes");
    BOOST_TEST(test::read_file(dir / (id + ".part")) == content.substr(0, 30000));
    BOOST_TEST(!test::path_exists(dir / id));

    server.set(serve(content));
    const DownloadResult r = download_object({server.url(), "t"}, id, content.size(), dir.path());
    BOOST_TEST(server.seen().at(1).range == "bytes=30000-");
    BOOST_TEST(r.resumed_from == 30000u);
    BOOST_TEST(r.bytes_fetched == 50000u);
    BOOST_TEST(test::read_file(dir / id) == content);
}

BOOST_AUTO_TEST_CASE(StallMidBodyIsAnIoErrorWithinTheReadTimeout) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(50000, 13);
    const std::string id = id_of(content);
    server.set([&](HTTPServerRequest&, HTTPServerResponse& response, ServerState& state) {
        response.setContentLength64(static_cast<Poco::Int64>(content.size()));
        std::ostream& out = response.send();
        out.write(content.data(), 1000);
        out.flush();
        state.nap(10s);
    });
    const auto start = std::chrono::steady_clock::now();
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id, content.size(), dir.path(), quick_limits());
        },
        ErrorCode::Io, "from " + server.url() + ": stalled: no byte for 1 s");
    const double took = seconds_since(start);
    BOOST_TEST(took >= 0.9);
    BOOST_TEST(took < 3.0);
    BOOST_TEST(test::read_file(dir / (id + ".part")) == content.substr(0, 1000));
}

BOOST_AUTO_TEST_CASE(SilenceBeforeTheAnswerIsAnIoError) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(1000, 14);
    server.set([](HTTPServerRequest&, HTTPServerResponse&, ServerState& state) { state.nap(10s); });
    const auto start = std::chrono::steady_clock::now();
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id_of(content), content.size(), dir.path(),
                            quick_limits());
        },
        ErrorCode::Io, "within 1 s");
    BOOST_TEST(seconds_since(start) < 3.0);
}

BOOST_AUTO_TEST_CASE(TrickleUnderTheMinimumRateIsAnIoError) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(100000, 15);
    const std::string id = id_of(content);
    server.set(trickle(content, 40, 100ms));  // 400 B/s: every read arrives well in time
    const auto start = std::chrono::steady_clock::now();
    const std::string message = expect_error(
        [&] {
            download_object({server.url(), "t"}, id, content.size(), dir.path(), quick_limits());
        },
        ErrorCode::Io, "too slow: ");
    BOOST_TEST(message.find("B/s over 1.5 s, minimum 1024 B/s") != std::string::npos, message);
    const double took = seconds_since(start);
    BOOST_TEST(took >= 1.4);
    BOOST_TEST(took < 3.0);
    BOOST_TEST(file_size(dir / (id + ".part")) > 0);  // kept for the next source or try
}

BOOST_AUTO_TEST_CASE(OverallDeadlineEndsAFastEnoughButLongDownload) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(2 << 20, 16);
    server.set(trickle(content, 8192, 100ms));  // 80 KiB/s, far above the minimum
    DownloadLimits limits = quick_limits();
    limits.overall = 1500ms;
    const auto start = std::chrono::steady_clock::now();
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id_of(content), content.size(), dir.path(),
                            limits);
        },
        ErrorCode::Io, "not done within the overall limit of 1.5 s");
    const double took = seconds_since(start);
    BOOST_TEST(took >= 1.4);
    BOOST_TEST(took < 2.5);
}

BOOST_AUTO_TEST_CASE(SilentSourceIsDroppedAtTheDeadlineNotAReadTimeoutLater) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(50000, 17);
    server.set(trickle(content, 1000, 20s));  // 1000 bytes, then silence
    DownloadLimits limits = quick_limits();
    limits.read_timeout = 20s;
    limits.min_bytes_per_second = 0;
    limits.overall = 1s;
    const auto start = std::chrono::steady_clock::now();
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id_of(content), content.size(), dir.path(),
                            limits);
        },
        ErrorCode::Io, "not done within the overall limit of 1 s (1000 of 50000 bytes on disk)");
    BOOST_TEST(seconds_since(start) < 2.0);
}

BOOST_AUTO_TEST_CASE(HttpErrorsCarryTheirCodeAndNameTheUrl) {
    test::TempDir dir;
    TestServer server;
    const std::string id = id_of("x");
    const std::string url = server.url() + "/api/v1/objects/" + id;
    server.set(status(404, "no such object"));
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id, 1, dir.path());
        },
        ErrorCode::NotFound, "GET " + url + " answered 404 Not Found: no such object");
    server.set(status(401, "unknown token"));
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id, 1, dir.path());
        },
        ErrorCode::Unauthenticated, "answered 401");
    server.set(status(403, "clients cannot read objects"));
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id, 1, dir.path());
        },
        ErrorCode::Forbidden, "answered 403");
    server.set(status(503, "busy"));
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id, 1, dir.path());
        },
        ErrorCode::Io, "answered 503");
    BOOST_TEST(!test::path_exists(dir / id));
}

BOOST_AUTO_TEST_CASE(BadIdIsRefusedBeforeAnyRequestOrPath) {
    test::TempDir dir;
    TestServer server;
    server.set(serve("x"));
    for (const std::string& id :
         {std::string("../x"), std::string(64, 'A'), std::string(63, 'a'), std::string()}) {
        expect_error(
            [&] {
                download_object({server.url(), "t"}, id, 1, dir.path());
            },
            ErrorCode::InvalidInput, "is not an object id");
    }
    BOOST_TEST(server.seen().empty());
    BOOST_TEST(test::list_tree(dir.path()).empty());
}

BOOST_AUTO_TEST_CASE(BadSourcesAndLimitsAreInvalidInput) {
    test::TempDir dir;
    const std::string id = id_of("x");
    for (const char* url : {"ftp://127.0.0.1:1", "127.0.0.1:1", "http://", "http://u:p@h:1"}) {
        expect_error(
            [&] {
                download_object({url, "t"}, id, 1, dir.path());
            },
            ErrorCode::InvalidInput, "must look like http://HOST:PORT");
    }
    expect_error(
        [&] {
            download_object({"http://127.0.0.1:1", "t\r\nX: y"}, id, 1, dir.path());
        },
        ErrorCode::InvalidInput, "control character");
    DownloadLimits limits;
    limits.read_timeout = 0s;
    expect_error(
        [&] {
            download_object({"http://127.0.0.1:1", "t"}, id, 1, dir.path(), limits);
        },
        ErrorCode::InvalidInput, "read_timeout must be positive");
    BOOST_TEST(test::list_tree(dir.path()).empty());
}

BOOST_AUTO_TEST_CASE(ExistingVerifiedFileMakesNoRequest) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(4000, 18);
    const std::string id = id_of(content);
    test::write_file(dir / id, content);
    server.set(serve(make_content(4000, 19)));
    const DownloadResult r = download_object({server.url(), "t"}, id, content.size(), dir.path());
    BOOST_TEST(r.already_present);
    BOOST_TEST(r.bytes_fetched == 0u);
    BOOST_TEST(server.seen().empty());
    BOOST_TEST(test::list_tree(dir.path()) == id + "\n");
}

BOOST_AUTO_TEST_CASE(ExistingCorruptFileIsReplaced) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(4000, 20);
    const std::string id = id_of(content);
    test::write_file(dir / id, make_content(4000, 21));
    server.set(serve(content));
    const DownloadResult r = download_object({server.url(), "t"}, id, content.size(), dir.path());
    BOOST_TEST(!r.already_present);
    BOOST_TEST(r.bytes_fetched == content.size());
    BOOST_TEST(test::read_file(dir / id) == content);
}

BOOST_AUTO_TEST_CASE(CompletePartIsFinishedWithoutARequest) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(4000, 22);
    const std::string id = id_of(content);
    test::write_file(dir / (id + ".part"), content);
    const DownloadResult r = download_object({server.url(), "t"}, id, content.size(), dir.path());
    BOOST_TEST(server.seen().empty());
    BOOST_TEST(r.resumed_from == content.size());
    BOOST_TEST(r.bytes_fetched == 0u);
    BOOST_TEST(test::read_file(dir / id) == content);
    BOOST_TEST(!test::path_exists(dir / (id + ".part")));
}

BOOST_AUTO_TEST_CASE(PartLockedByAnotherDownloadIsAConflict) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(4000, 23);
    const std::string id = id_of(content);
    server.set(serve(content));
    test::write_file(dir / (id + ".part"), content.substr(0, 100));
    const int fd = ::open((dir / (id + ".part")).c_str(), O_RDWR | O_CLOEXEC);
    BOOST_TEST_REQUIRE(fd >= 0);
    BOOST_TEST_REQUIRE(::flock(fd, LOCK_EX) == 0);
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id, content.size(), dir.path());
        },
        ErrorCode::Conflict, "another download of it into " + dir.path());
    ::close(fd);
    BOOST_TEST(server.seen().empty());
    BOOST_TEST(test::read_file(dir / (id + ".part")) == content.substr(0, 100));
    download_object({server.url(), "t"}, id, content.size(), dir.path());
    BOOST_TEST(test::read_file(dir / id) == content);
}

BOOST_AUTO_TEST_CASE(SymlinkedPartIsReplacedNotFollowed) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(4000, 24);
    const std::string id = id_of(content);
    test::write_file(dir / "victim", "keep me");
    BOOST_TEST_REQUIRE(::symlink((dir / "victim").c_str(), (dir / (id + ".part")).c_str()) == 0);
    server.set(serve(content));
    download_object({server.url(), "t"}, id, content.size(), dir.path());
    BOOST_TEST(test::read_file(dir / "victim") == "keep me");
    BOOST_TEST(test::read_file(dir / id) == content);
}

BOOST_AUTO_TEST_CASE(CancelStopsAndKeepsThePart) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(1 << 20, 25);
    const std::string id = id_of(content);
    server.set(trickle(content, 16384, 20ms));
    std::atomic<bool> cancel{false};
    expect_error(
        [&] {
            download_object(
                {server.url(), "t"}, id, content.size(), dir.path(), quick_limits(),
                [&](std::uint64_t done, std::uint64_t) {
                    if (done >= 16384) cancel = true;
                },
                &cancel);
        },
        ErrorCode::Io, "cancelled");
    BOOST_TEST(file_size(dir / (id + ".part")) >= 16384);
    BOOST_TEST(!test::path_exists(dir / id));
}

BOOST_AUTO_TEST_CASE(CancelWhileTheSourceIsSilentEndsAtOnce) {
    test::TempDir dir;
    TestServer server;
    const std::string content = make_content(50000, 28);
    const std::string id = id_of(content);
    server.set(trickle(content, 1000, 20s));  // 1000 bytes, then silence
    DownloadLimits limits = quick_limits();
    limits.read_timeout = 20s;
    limits.min_bytes_per_second = 0;
    std::atomic<bool> cancel{false};
    std::thread canceller([&] {
        std::this_thread::sleep_for(300ms);
        cancel = true;
    });
    const auto start = std::chrono::steady_clock::now();
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id, content.size(), dir.path(), limits, nullptr,
                            &cancel);
        },
        ErrorCode::Io, "cancelled (1000 of 50000 bytes on disk)");
    canceller.join();
    BOOST_TEST(seconds_since(start) < 1.0);
    BOOST_TEST(test::read_file(dir / (id + ".part")) == content.substr(0, 1000));
}

BOOST_AUTO_TEST_CASE(ListenerThatNeverAnswersIsAnIoError) {
    test::TempDir dir;
    // Connections complete in the kernel's backlog; nobody ever reads or writes them.
    Poco::Net::ServerSocket mute(Poco::Net::SocketAddress("127.0.0.1", 0));
    const std::string url = "http://127.0.0.1:" + std::to_string(mute.address().port());
    const auto start = std::chrono::steady_clock::now();
    expect_error(
        [&] {
            download_object({url, "t"}, id_of("x"), 1, dir.path(), quick_limits());
        },
        ErrorCode::Io, "no answer to GET " + url + "/api/v1/objects/" + id_of("x") + " within 1 s");
    BOOST_TEST(seconds_since(start) < 2.0);
}

BOOST_AUTO_TEST_CASE(RefusedConnectionIsAnIoErrorNamingTheSource) {
    test::TempDir dir;
    std::string url;
    {
        TestServer gone;  // a port that was just free, with nothing listening any more
        url = gone.url();
    }
    expect_error(
        [&] {
            download_object({url, "t"}, id_of("x"), 1, dir.path(), quick_limits());
        },
        ErrorCode::Io, "from " + url + ": cannot connect");
}

// ---- HTTPS: the same trust rules as ApiClient ----

namespace {

struct Certificate {
    test::TempDir dir;
    std::string key = dir / "server.key";
    std::string cert = dir / "server.crt";
    bool made = false;
    // A self-signed certificate (EC P-256) for `names`, e.g. "IP:127.0.0.1".
    explicit Certificate(const std::string& names = "IP:127.0.0.1") {
        if (!test::have_program("openssl")) return;
        const auto r = test::run_process({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                          "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                                          "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
                                          "-addext", "subjectAltName=" + names});
        made = r.exit_code == 0;
    }
    Poco::Net::Context::Ptr server_context() const {
        Poco::Net::initializeSSL();
        return new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, key, cert, "",
                                      Poco::Net::Context::VERIFY_NONE);
    }
};

// Sets FERRY_CA_FILE for the scope.
struct CaFile {
    explicit CaFile(const std::string& path) { ::setenv("FERRY_CA_FILE", path.c_str(), 1); }
    ~CaFile() { ::unsetenv("FERRY_CA_FILE"); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(HttpsDownloadTrustsOnlyTheConfiguredCertificate) {
    Certificate certificate;
    if (!certificate.made) {
        BOOST_TEST_MESSAGE("openssl not available: HTTPS case skipped");
        return;
    }
    test::TempDir dir;
    TestServer server(certificate.server_context());
    const std::string content = make_content(200000, 26);
    const std::string id = id_of(content);
    server.set(serve(content));
    ::unsetenv("FERRY_CA_FILE");
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id, content.size(), dir.path());
        },
        ErrorCode::VerificationFailed, "the TLS certificate of the server is not trusted");
    BOOST_TEST(!test::path_exists(dir / id));
    {
        CaFile trust(certificate.cert);
        const DownloadResult r =
            download_object({server.url(), "t"}, id, content.size(), dir.path());
        BOOST_TEST(r.bytes_fetched == content.size());
    }
    BOOST_TEST(test::read_file(dir / id) == content);
    BOOST_TEST(server.seen().back().authorization == "Bearer t");
}

BOOST_AUTO_TEST_CASE(HttpsStallIsCaughtWithinTheReadTimeout) {
    Certificate certificate;
    if (!certificate.made) {
        BOOST_TEST_MESSAGE("openssl not available: HTTPS case skipped");
        return;
    }
    test::TempDir dir;
    TestServer server(certificate.server_context());
    const std::string content = make_content(50000, 27);
    const std::string id = id_of(content);
    server.set(trickle(content, 2000, 20s));
    CaFile trust(certificate.cert);
    const auto start = std::chrono::steady_clock::now();
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id, content.size(), dir.path(), quick_limits());
        },
        ErrorCode::Io, "stalled: no byte for 1 s (2000 of 50000 bytes on disk)");
    const double took = seconds_since(start);
    BOOST_TEST(took < 2.0, "took " << took << " s");  // not twice the timeout, as Poco's TLS reads
}

BOOST_AUTO_TEST_CASE(HttpsTrickleIsCaughtAtTheEndOfTheRateWindow) {
    Certificate certificate;
    if (!certificate.made) {
        BOOST_TEST_MESSAGE("openssl not available: HTTPS case skipped");
        return;
    }
    test::TempDir dir;
    TestServer server(certificate.server_context());
    const std::string content = make_content(50000, 29);
    server.set(trickle(content, 100, 400ms));  // 250 B/s, each piece within the read timeout
    CaFile trust(certificate.cert);
    const auto start = std::chrono::steady_clock::now();
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id_of(content), content.size(), dir.path(),
                            quick_limits());
        },
        ErrorCode::Io, "over 1.5 s, minimum 1024 B/s");
    const double took = seconds_since(start);
    BOOST_TEST(took < 3.0, "took " << took << " s");
}

BOOST_AUTO_TEST_CASE(HttpsHandshakeWithAMuteListenerIsBounded) {
    Certificate certificate;
    if (!certificate.made) {
        BOOST_TEST_MESSAGE("openssl not available: HTTPS case skipped");
        return;
    }
    test::TempDir dir;
    Poco::Net::ServerSocket mute(Poco::Net::SocketAddress("127.0.0.1", 0));
    const std::string url = "https://127.0.0.1:" + std::to_string(mute.address().port());
    CaFile trust(certificate.cert);
    const auto start = std::chrono::steady_clock::now();
    expect_error(
        [&] {
            download_object({url, "t"}, id_of("x"), 1, dir.path(), quick_limits());
        },
        ErrorCode::Io, "from " + url + ": cannot connect within 1.5 s");
    const double took = seconds_since(start);
    BOOST_TEST(took >= 1.4);
    BOOST_TEST(took < 3.0, "took " << took << " s");
}

BOOST_AUTO_TEST_CASE(HttpsCertificateForAnotherNameIsRefused) {
    Certificate certificate("DNS:mirror.example.invalid");
    if (!certificate.made) {
        BOOST_TEST_MESSAGE("openssl not available: HTTPS case skipped");
        return;
    }
    test::TempDir dir;
    TestServer server(certificate.server_context());
    const std::string content = make_content(1000, 30);
    server.set(serve(content));
    CaFile trust(certificate.cert);  // a trusted chain, but not for 127.0.0.1
    expect_error(
        [&] {
            download_object({server.url(), "t"}, id_of(content), content.size(), dir.path());
        },
        ErrorCode::VerificationFailed, "the TLS certificate of the server is not trusted");
    BOOST_TEST(test::list_tree(dir.path()).empty());
}
