#include "ferry/object_download.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/URI.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <streambuf>
#include <thread>
#include <utility>
#include <vector>

#include "fd_io.h"
#include "ferry/atomic_file.h"
#include "ferry/encoding.h"
#include "ferry/error.h"
#include "ferry/hash.h"
#include "ferry/json.h"
#include "tls_client.h"
#include "unique_fd.h"

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr std::size_t kBufferSize = 64 * 1024;
constexpr std::size_t kHashBufferSize = 1 << 20;
constexpr std::size_t kMaxErrorBody = 4096;
constexpr std::chrono::seconds kBackstop(1);

// "30 s", "1.5 s": tenths of a second below 10 s, whole seconds from there, no trailing ".0".
std::string seconds_text(Clock::duration d) {
    const auto ms = duration_cast<milliseconds>(d).count();
    const auto tenths = (ms + 50) / 100;
    if (ms >= 10000 || tenths % 10 == 0) return std::to_string((ms + 500) / 1000) + " s";
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

Poco::Timespan timespan(Clock::duration d) {
    // Poco treats a zero timeout as none at all: never go below a millisecond.
    const auto us = std::max<std::int64_t>(
        1000, std::chrono::duration_cast<std::chrono::microseconds>(d).count());
    return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(us));
}

// The BLAKE2b-256 of the first `length` bytes of `fd` (read with pread: the offset is kept).
void hash_prefix(int fd, std::uint64_t length, Blake2b& hasher, const std::string& path) {
    std::vector<char> buffer(kHashBufferSize);
    std::uint64_t done = 0;
    while (done < length) {
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), length - done));
        const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_system_error("cannot read " + path);
        }
        if (n == 0) throw Error(ErrorCode::Io, "cannot read " + path + ": it shrank while read");
        hasher.update(buffer.data(), static_cast<std::size_t>(n));
        done += static_cast<std::uint64_t>(n);
    }
}

// Parses "bytes FIRST-LAST/TOTAL" (TOTAL may be "*").
struct ContentRange {
    std::uint64_t first = 0, last = 0;
    std::optional<std::uint64_t> total;
};

std::optional<std::uint64_t> parse_decimal(const std::string& text) {
    if (text.empty() || text.size() > 19 ||
        text.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return std::stoull(text);
}

std::optional<ContentRange> parse_content_range(const std::string& header) {
    const std::string prefix = "bytes ";
    if (header.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    const std::string spec = header.substr(prefix.size());
    const auto dash = spec.find('-'), slash = spec.find('/');
    if (dash == std::string::npos || slash == std::string::npos || slash < dash)
        return std::nullopt;
    const auto first = parse_decimal(spec.substr(0, dash));
    const auto last = parse_decimal(spec.substr(dash + 1, slash - dash - 1));
    if (!first || !last) return std::nullopt;
    ContentRange range{*first, *last, std::nullopt};
    const std::string total = spec.substr(slash + 1);
    if (total != "*") {
        range.total = parse_decimal(total);
        if (!range.total) return std::nullopt;
    }
    return range;
}

struct Target {
    std::string name;  // base_url without a trailing '/', for messages
    std::string scheme;
    std::string host;
    unsigned short port = 0;
    std::string path_prefix;  // "" or "/PREFIX"
};

Target parse_source(const std::string& base_url) {
    const std::string usage = "download source \"" + base_url.substr(0, 200) +
                              "\" must look like http://HOST:PORT or https://HOST[:PORT]";
    Poco::URI uri;
    try {
        uri = Poco::URI(base_url);
    } catch (const Poco::Exception& e) {
        throw Error(ErrorCode::InvalidInput, usage + ": " + e.displayText());
    }
    if ((uri.getScheme() != "http" && uri.getScheme() != "https") || uri.getHost().empty() ||
        !uri.getUserInfo().empty() || !uri.getRawQuery().empty() || !uri.getFragment().empty()) {
        throw Error(ErrorCode::InvalidInput, usage);
    }
    Target target;
    target.scheme = uri.getScheme();
    target.host = uri.getHost();
    target.port = uri.getPort();
    target.path_prefix = uri.getPath();
    while (!target.path_prefix.empty() && target.path_prefix.back() == '/')
        target.path_prefix.pop_back();
    target.name = base_url;
    while (!target.name.empty() && target.name.back() == '/') target.name.pop_back();
    return target;
}

void check_limits(const DownloadLimits& limits) {
    const auto positive = [](milliseconds value, const char* name) {
        if (value.count() <= 0)
            throw Error(ErrorCode::InvalidInput,
                        std::string("download limit ") + name + " must be positive");
    };
    positive(limits.connect_timeout, "connect_timeout");
    positive(limits.read_timeout, "read_timeout");
    positive(limits.overall, "overall");
    positive(limits.min_rate_window, "min_rate_window");
}

// What a wait on the network is bounded by, to name it when the wait ends the download.
enum class Waiting { Connect, Answer, Stall, Rate, Deadline, Cancel };

// Ends a wait on the network on time, from a thread of its own: when the time set by arm() comes,
// or as soon as `cancel` is set, it shuts the socket down, so that a read blocked in the kernel
// or inside OpenSSL returns at once. (Socket timeouts alone are not enough: Poco's TLS reads wait
// up to twice the receive timeout, and a socket timeout cannot be cancelled.)
class Watchdog {
  public:
    // Works on its own duplicate of `fd`: shutting a socket down through any of its descriptors
    // shuts it down, and a descriptor of its own cannot be closed and reused under it.
    Watchdog(int fd, Clock::time_point deadline, const std::atomic<bool>* cancel)
        : fd_(::fcntl(fd, F_DUPFD_CLOEXEC, 0)),
          deadline_(deadline),
          cancel_(cancel),
          fire_at_(deadline) {
        if (!fd_) throw_system_error("cannot duplicate a socket descriptor");
        thread_ = std::thread([this] { watch(); });
    }
    ~Watchdog() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        changed_.notify_one();
        thread_.join();
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

    // Until the next arm() or disarm(), the socket is shut down at `when`.
    void arm(Clock::time_point when, Waiting why) {
        std::lock_guard<std::mutex> lock(mutex_);
        const bool sooner = when < fire_at_;
        fire_at_ = when;
        why_ = why;
        if (sooner) changed_.notify_one();
    }
    // Between reads only the overall deadline (and cancel) applies.
    void disarm() { arm(deadline_, Waiting::Deadline); }
    // Why the socket was shut down, if it was.
    std::optional<Waiting> fired() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return fired_;
    }

  private:
    void watch() {
        constexpr auto kCancelPoll = std::chrono::milliseconds(50);
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stop_) {
            const Clock::time_point now = Clock::now();
            if (cancel_ != nullptr && cancel_->load()) {
                fired_ = Waiting::Cancel;
            } else if (now >= fire_at_) {
                fired_ = why_;
            }
            if (fired_) {
                ::shutdown(fd_.get(), SHUT_RDWR);
                return;
            }
            changed_.wait_until(
                lock, cancel_ != nullptr ? std::min(fire_at_, now + kCancelPoll) : fire_at_);
        }
    }

    const UniqueFd fd_;
    const Clock::time_point deadline_;
    const std::atomic<bool>* const cancel_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    Clock::time_point fire_at_;
    Waiting why_ = Waiting::Deadline;
    std::optional<Waiting> fired_;
    bool stop_ = false;
    std::thread thread_;  // started in the constructor's body, once everything above is set
};

class Download {
  public:
    Download(const DownloadSource& source, const std::string& id, std::uint64_t size,
             const std::string& dest_dir, const DownloadLimits& limits, const ProgressFn& progress,
             const std::atomic<bool>* cancel)
        : source_(source),
          target_(parse_source(source.base_url)),
          id_(id),
          size_(size),
          dest_dir_(dest_dir),
          final_path_(dest_dir + "/" + id),
          part_path_(final_path_ + ".part"),
          limits_(limits),
          progress_(progress),
          cancel_(cancel),
          start_(Clock::now()),
          deadline_(start_ + limits.overall) {}

    DownloadResult run();

  private:
    enum class FinalState { Absent, Good, Bad };

    Error fail(ErrorCode code, const std::string& what) const {
        return Error(code, "object " + id_ + " from " + target_.name + ": " + what);
    }
    std::string progress_text() const {
        return std::to_string(offset_) + " of " + std::to_string(size_) + " bytes";
    }
    Error deadline_error() const {
        return fail(ErrorCode::Io, "not done within the overall limit of " +
                                       seconds_text(limits_.overall) + " (" + progress_text() +
                                       " on disk)");
    }

    FinalState check_final(bool remove_bad) const;
    void open_and_lock_part();
    bool resume_or_finish();
    void restart_from_zero();
    void fetch();
    void check_answer(Poco::Net::HTTPResponse& response, std::istream& body, Watchdog& watchdog);
    void read_body(std::streambuf& body, Watchdog& watchdog);
    bool has_more(std::streambuf& body, Watchdog& watchdog);
    // When the next wait on the network must end, and why.
    std::pair<Clock::time_point, Waiting> next_wait(Clock::time_point now) const;
    // Fails the download if the current rate window has run its length below the minimum.
    void check_rate(Clock::time_point now);
    Error too_slow(Clock::time_point now) const;
    Error wait_error(Waiting why) const;
    void finish();

    const DownloadSource& source_;
    const Target target_;
    const std::string& id_;
    const std::uint64_t size_;
    const std::string& dest_dir_;
    const std::string final_path_;
    const std::string part_path_;
    const DownloadLimits& limits_;
    const ProgressFn& progress_;
    const std::atomic<bool>* const cancel_;
    const Clock::time_point start_;
    const Clock::time_point deadline_;

    UniqueFd part_;
    std::optional<ObjectHasher> hasher_;
    std::uint64_t offset_ = 0;  // bytes in the .part, all hashed
    std::uint64_t resumed_from_ = 0;
    std::uint64_t fetched_ = 0;
    // The current throughput window of the body.
    Clock::time_point window_start_;
    std::uint64_t window_bytes_ = 0;
};

Download::FinalState Download::check_final(bool remove_bad) const {
    FinalState state = FinalState::Bad;
    {
        UniqueFd fd(::open(final_path_.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        if (!fd && errno == ENOENT) return FinalState::Absent;
        if (!fd && errno != ELOOP) throw_system_error("cannot open " + final_path_);
        struct stat st {};
        if (fd && ::fstat(fd.get(), &st) != 0) throw_system_error("cannot stat " + final_path_);
        if (fd && S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) == size_) {
            ObjectHasher hasher;
            hash_prefix(fd.get(), size_, hasher, final_path_);
            if (hasher.finish_hex() == id_) state = FinalState::Good;
        }
    }
    if (state == FinalState::Bad && remove_bad && ::unlink(final_path_.c_str()) != 0 &&
        errno != ENOENT) {
        throw_system_error("cannot remove " + final_path_ + ", which does not match its name");
    }
    return state;
}

void Download::open_and_lock_part() {
    for (int attempt = 0; attempt < 3; ++attempt) {
        // A .part that is not a regular file (a planted symlink, a FIFO) is removed, never used.
        UniqueFd fd(::open(part_path_.c_str(),
                           O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644));
        if (!fd) {
            if (errno == ELOOP && ::unlink(part_path_.c_str()) == 0) continue;
            throw_system_error("cannot open " + part_path_);
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) throw_system_error("cannot stat " + part_path_);
        if (!S_ISREG(st.st_mode)) {
            if (::unlink(part_path_.c_str()) != 0)
                throw_system_error("cannot remove " + part_path_ + ", not a regular file");
            continue;
        }
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK) {
                throw fail(ErrorCode::Conflict,
                           "another download of it into " + dest_dir_ + " is running");
            }
            throw_system_error("cannot lock " + part_path_);
        }
        // The lock holder may have renamed or removed the file between our open and flock: the
        // lock counts only if the name still leads to the locked file.
        struct stat named {};
        if (::stat(part_path_.c_str(), &named) == 0 && named.st_dev == st.st_dev &&
            named.st_ino == st.st_ino) {
            part_ = std::move(fd);
            return;
        }
    }
    throw fail(ErrorCode::Conflict, "another download of it into " + dest_dir_ + " is running");
}

// Hashes what an earlier call left in the .part. Returns true when it is the whole object and
// verifies (then it has been committed); otherwise the download continues from offset_.
bool Download::resume_or_finish() {
    struct stat st {};
    if (::fstat(part_.get(), &st) != 0) throw_system_error("cannot stat " + part_path_);
    hasher_.emplace();
    offset_ = static_cast<std::uint64_t>(st.st_size);
    if (offset_ > size_) {
        restart_from_zero();  // not from a download of this object: bytes past its end
        return false;
    }
    hash_prefix(part_.get(), offset_, *hasher_, part_path_);
    if (offset_ == size_) {
        if (hasher_->finish_hex() == id_) {
            resumed_from_ = offset_;
            finish();
            return true;
        }
        restart_from_zero();
        return false;
    }
    if (::lseek(part_.get(), static_cast<off_t>(offset_), SEEK_SET) < 0)
        throw_system_error("cannot seek in " + part_path_);
    resumed_from_ = offset_;
    return false;
}

void Download::restart_from_zero() {
    if (::ftruncate(part_.get(), 0) != 0) throw_system_error("cannot truncate " + part_path_);
    if (::lseek(part_.get(), 0, SEEK_SET) < 0) throw_system_error("cannot seek in " + part_path_);
    hasher_.emplace();
    offset_ = 0;
    resumed_from_ = 0;
}

void Download::finish() {
    if (::fsync(part_.get()) != 0) throw_system_error("cannot fsync " + part_path_);
    // Renamed while still locked, so that no other download can take the file under us.
    if (::rename(part_path_.c_str(), final_path_.c_str()) != 0)
        throw_system_error("cannot rename " + part_path_ + " to " + final_path_);
    part_.reset();
    fsync_directory(dest_dir_);
}

DownloadResult Download::run() {
    DownloadResult result;
    // A verified file is never half-written (it appears by rename), so no lock is needed to use it.
    if (check_final(false) == FinalState::Good) {
        result.already_present = true;
        return result;
    }
    open_and_lock_part();
    if (check_final(true) == FinalState::Good) {  // another download finished meanwhile
        ::unlink(part_path_.c_str());
        result.already_present = true;
        return result;
    }
    if (!resume_or_finish()) {
        try {
            fetch();
        } catch (const Error&) {
            // Keep what arrived for the next call (unless the .part was deleted already); an
            // empty one is no use to it.
            if (part_ && offset_ == 0) {
                ::unlink(part_path_.c_str());
            } else if (part_) {
                ::fsync(part_.get());
            }
            throw;
        }
        const std::string actual = hasher_->finish_hex();
        if (actual != id_) {
            ::unlink(part_path_.c_str());
            part_.reset();
            throw fail(ErrorCode::VerificationFailed,
                       "bytes hash to " + actual +
                           (resumed_from_ > 0 ? " (the first " + std::to_string(resumed_from_) +
                                                    " bytes came from an earlier download)"
                                              : std::string()) +
                           "; the partial file was deleted");
        }
        finish();
    }
    result.bytes_fetched = fetched_;
    result.resumed_from = resumed_from_;
    return result;
}

void Download::fetch() {
    const std::string path = target_.path_prefix + "/api/v1/objects/" + id_;
    const std::string url = target_.name + "/api/v1/objects/" + id_;
    std::optional<ClientTls> tls;
    if (target_.scheme == "https") tls = make_client_tls(target_.host);

    // Connect (TCP, then the TLS handshake) within connect_timeout. The socket is connected here
    // rather than inside the HTTP session so that the watchdog guards the handshake as well.
    Clock::time_point now = Clock::now();
    if (now >= deadline_) throw deadline_error();
    const Clock::time_point connected_by = std::min(now + limits_.connect_timeout, deadline_);
    Poco::Net::StreamSocket socket;
    try {
        socket.connect(Poco::Net::SocketAddress(target_.host, target_.port),
                       timespan(connected_by - now));
        // Socket timeouts are only a backstop, a second later than the watchdog's, which ends
        // every wait on time.
        socket.setReceiveTimeout(timespan(connected_by - now + kBackstop));
        socket.setSendTimeout(timespan(connected_by - now + kBackstop));
    } catch (const Poco::TimeoutException&) {
        if (Clock::now() >= deadline_) throw deadline_error();
        throw fail(ErrorCode::Io, "cannot connect within " + seconds_text(limits_.connect_timeout));
    } catch (const Poco::Exception& e) {
        throw fail(ErrorCode::Io, "cannot connect: " + e.displayText());
    }
    // Declared before the watchdog, so that the session (which closes the socket) outlives it.
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    Watchdog watchdog(socket.impl()->sockfd(), deadline_, cancel_);
    if (tls) {
        watchdog.arm(connected_by, connected_by < deadline_ ? Waiting::Connect : Waiting::Deadline);
        clear_certificate_error();
        try {
            Poco::Net::SecureStreamSocket secure =
                Poco::Net::SecureStreamSocket::attach(socket, target_.host, tls->context);
            // attach() can give up on a slow handshake without a word: finish it here, on time.
            // OpenSSL checks the chain and the host name during the handshake, Poco after it.
            if (secure.completeHandshake() != 1) {
                if (const auto why = watchdog.fired()) throw wait_error(*why);
                throw fail(ErrorCode::Io, "TLS handshake failed");
            }
            secure.verifyPeerCertificate();
            session = std::make_unique<Poco::Net::HTTPClientSession>(secure);
        } catch (const Poco::Exception& e) {
            if (const auto why = watchdog.fired()) throw wait_error(*why);
            if (const auto* ssl = dynamic_cast<const Poco::Net::SSLException*>(&e)) {
                const Error error = tls_error(*ssl, *tls, "the server");
                throw fail(error.code(), error.what());
            }
            if (dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr)
                throw wait_error(Waiting::Connect);
            throw fail(ErrorCode::Io, "TLS handshake failed: " + e.displayText());
        }
    } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>(socket);
    }
    // The session must not reconnect on its own (it has no host to): the request alone says
    // "Connection: close".
    session->setKeepAlive(true);
    socket.setReceiveTimeout(timespan(limits_.read_timeout + kBackstop));
    socket.setSendTimeout(timespan(limits_.read_timeout + kBackstop));

    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.setHost(target_.host, target_.port);
    request.setKeepAlive(false);
    if (!source_.token.empty()) request.set("Authorization", "Bearer " + source_.token);
    if (offset_ > 0) request.set("Range", "bytes=" + std::to_string(offset_) + "-");

    Poco::Net::HTTPResponse response;
    std::istream* body = nullptr;
    now = Clock::now();
    watchdog.arm(std::min(now + limits_.read_timeout, deadline_),
                 now + limits_.read_timeout < deadline_ ? Waiting::Answer : Waiting::Deadline);
    try {
        session->sendRequest(request);
        body = &session->receiveResponse(response);
    } catch (const Poco::Exception& e) {
        if (const auto why = watchdog.fired()) throw wait_error(*why);
        if (dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr)
            throw wait_error(Waiting::Answer);
        if (dynamic_cast<const Poco::Net::NoMessageException*>(&e) != nullptr)
            throw fail(ErrorCode::Io, "the server closed the connection without answering");
        throw fail(ErrorCode::Io, "no answer to GET " + url + ": " + e.displayText());
    }
    watchdog.disarm();
    check_answer(response, *body, watchdog);
    read_body(*body->rdbuf(), watchdog);
}

void Download::check_answer(Poco::Net::HTTPResponse& response, std::istream& body,
                            Watchdog& watchdog) {
    const int status = static_cast<int>(response.getStatus());
    const std::string url = target_.name + "/api/v1/objects/" + id_;
    const std::uint64_t announced =
        response.hasContentLength() ? static_cast<std::uint64_t>(response.getContentLength64()) : 0;
    if (status == 200) {
        if (response.hasContentLength() && announced > size_) {
            throw fail(ErrorCode::VerificationFailed,
                       "the answer is " + std::to_string(announced) +
                           " bytes long: sent more than the declared " + std::to_string(size_) +
                           " bytes; refused");
        }
        if (offset_ > 0) restart_from_zero();  // the Range was ignored: the whole object comes
        return;
    }
    if (status == 206) {
        const std::string header = response.get("Content-Range", "");
        const auto range = parse_content_range(header);
        const bool asked = offset_ > 0;
        if (!asked || !range || range->first != offset_ || range->last + 1 != size_ ||
            (range->total && *range->total != size_)) {
            throw fail(ErrorCode::VerificationFailed,
                       (asked ? "asked for bytes=" + std::to_string(offset_) + "-"
                              : std::string("asked for the whole object")) +
                           " and got 206 with Content-Range \"" + header.substr(0, 100) +
                           "\"; refused");
        }
        if (response.hasContentLength() && announced != size_ - offset_) {
            throw fail(
                ErrorCode::VerificationFailed,
                "a 206 for bytes " + std::to_string(offset_) + "- is " + std::to_string(announced) +
                    " bytes long" +
                    (announced > size_ - offset_
                         ? ": sent more than the declared " + std::to_string(size_) + " bytes"
                         : ", not " + std::to_string(size_ - offset_)) +
                    "; refused");
        }
        return;
    }
    // An error: the server's own message when it sent one (bounded in size and time).
    std::string answer;
    try {
        watchdog.arm(std::min(Clock::now() + limits_.read_timeout, deadline_), Waiting::Stall);
        std::vector<char> buffer(kMaxErrorBody);
        body.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        answer.assign(buffer.data(), static_cast<std::size_t>(body.gcount()));
    } catch (...) {
    }
    std::string message;
    try {
        const auto json = json::parse_object(answer, "answer");
        if (json->has("message")) message = ": " + json->getValue<std::string>("message");
    } catch (...) {
    }
    const ErrorCode code = status == 401   ? ErrorCode::Unauthenticated
                           : status == 403 ? ErrorCode::Forbidden
                           : status == 404 ? ErrorCode::NotFound
                           : status == 416 ? ErrorCode::VerificationFailed
                                           : ErrorCode::Io;
    throw fail(code, "GET " + url + " answered " + std::to_string(status) + " " +
                         response.getReason() + message);
}

std::pair<Clock::time_point, Waiting> Download::next_wait(Clock::time_point now) const {
    std::pair<Clock::time_point, Waiting> wait{now + limits_.read_timeout, Waiting::Stall};
    if (deadline_ < wait.first) wait = {deadline_, Waiting::Deadline};
    // A window that has not brought enough yet fails at its end if nothing more comes.
    const Clock::time_point window_end = window_start_ + limits_.min_rate_window;
    const double need = static_cast<double>(limits_.min_bytes_per_second) *
                        std::chrono::duration<double>(limits_.min_rate_window).count();
    if (limits_.min_bytes_per_second > 0 && static_cast<double>(window_bytes_) < need &&
        window_end < wait.first) {
        wait = {window_end, Waiting::Rate};
    }
    return wait;
}

void Download::check_rate(Clock::time_point now) {
    if (limits_.min_bytes_per_second == 0 || now - window_start_ < limits_.min_rate_window) return;
    const double seconds = std::chrono::duration<double>(now - window_start_).count();
    if (static_cast<double>(window_bytes_) <
        static_cast<double>(limits_.min_bytes_per_second) * seconds) {
        throw too_slow(now);
    }
    window_start_ = now;
    window_bytes_ = 0;
}

Error Download::too_slow(Clock::time_point now) const {
    const double seconds = std::chrono::duration<double>(now - window_start_).count();
    const auto rate = static_cast<std::uint64_t>(static_cast<double>(window_bytes_) / seconds);
    return fail(ErrorCode::Io, "too slow: " + std::to_string(rate) + " B/s over " +
                                   seconds_text(now - window_start_) + ", minimum " +
                                   std::to_string(limits_.min_bytes_per_second) + " B/s (" +
                                   progress_text() + " on disk)");
}

Error Download::wait_error(Waiting why) const {
    switch (why) {
        case Waiting::Connect:
            return fail(ErrorCode::Io,
                        "cannot connect within " + seconds_text(limits_.connect_timeout));
        case Waiting::Answer:
            return fail(ErrorCode::Io, "no answer to GET " + target_.name + "/api/v1/objects/" +
                                           id_ + " within " + seconds_text(limits_.read_timeout));
        case Waiting::Rate:
            return too_slow(Clock::now());
        case Waiting::Deadline:
            return deadline_error();
        case Waiting::Cancel:
            return fail(ErrorCode::Io, "cancelled (" + progress_text() + " on disk)");
        case Waiting::Stall:
            break;
    }
    return fail(ErrorCode::Io, "stalled: no byte for " + seconds_text(limits_.read_timeout) + " (" +
                                   progress_text() + " on disk)");
}

void Download::read_body(std::streambuf& body, Watchdog& watchdog) {
    using Traits = std::streambuf::traits_type;
    std::vector<char> buffer(kBufferSize);
    window_start_ = Clock::now();
    window_bytes_ = 0;
    if (progress_) progress_(offset_, size_);
    while (offset_ < size_) {
        if (cancel_ != nullptr && cancel_->load()) throw wait_error(Waiting::Cancel);
        const Clock::time_point now = Clock::now();
        if (now >= deadline_) throw deadline_error();
        check_rate(now);
        Traits::int_type next = Traits::eof();
        if (body.in_avail() > 0) {
            next = body.sgetc();
        } else {
            const auto [until, why] = next_wait(now);
            watchdog.arm(until, why);
            try {
                next = body.sgetc();  // one read from the network at most
            } catch (const Poco::Exception& e) {
                if (const auto fired = watchdog.fired()) throw wait_error(*fired);
                if (dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr)
                    throw wait_error(why);
                throw fail(ErrorCode::Io, "the connection broke after " + progress_text() + ": " +
                                              e.displayText() + " (kept for resuming)");
            }
            watchdog.disarm();
        }
        if (Traits::eq_int_type(next, Traits::eof())) {
            if (const auto fired = watchdog.fired()) throw wait_error(*fired);
            throw fail(ErrorCode::Io,
                       "the answer ended after " + progress_text() + " (kept for resuming)");
        }
        const auto available =
            static_cast<std::uint64_t>(std::max<std::streamsize>(1, body.in_avail()));
        const auto want = static_cast<std::streamsize>(
            std::min<std::uint64_t>({available, buffer.size(), size_ - offset_}));
        const std::streamsize got = body.sgetn(buffer.data(), want);
        if (got <= 0) throw fail(ErrorCode::Io, "the answer ended after " + progress_text());
        const auto n = static_cast<std::size_t>(got);
        hasher_->update(buffer.data(), n);
        write_all(part_.get(), buffer.data(), n, part_path_);
        offset_ += n;
        fetched_ += n;
        window_bytes_ += n;
        if (progress_) progress_(offset_, size_);
    }
    // All `size` bytes are on disk. A source that still has more is lying about the object
    // (THREATS: endless data); the extra bytes are never written.
    if (has_more(body, watchdog)) {
        ::unlink(part_path_.c_str());
        part_.reset();
        throw fail(ErrorCode::VerificationFailed,
                   "sent more than the declared " + std::to_string(size_) +
                       " bytes; cut there and the partial file deleted");
    }
}

bool Download::has_more(std::streambuf& body, Watchdog& watchdog) {
    using Traits = std::streambuf::traits_type;
    if (body.in_avail() > 0) return true;
    const Clock::time_point now = Clock::now();
    if (now >= deadline_) return false;
    watchdog.arm(std::min(now + limits_.read_timeout, deadline_), Waiting::Stall);
    try {
        // A body with a length ends here without a read; a chunked one reads its last chunk.
        return !Traits::eq_int_type(body.sgetc(), Traits::eof());
    } catch (const Poco::Exception&) {
        // A connection that breaks or stalls after the last byte takes nothing from the object.
        return false;
    }
}

}  // namespace

DownloadResult download_object(const DownloadSource& source, const std::string& id,
                               std::uint64_t size, const std::string& dest_dir,
                               const DownloadLimits& limits, const ProgressFn& progress,
                               const std::atomic<bool>* cancel) {
    if (!is_object_id(id)) {
        throw Error(ErrorCode::InvalidInput,
                    "\"" + id.substr(0, 80) + "\" is not an object id (64 lowercase hex digits)");
    }
    for (const char c : source.token) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            throw Error(ErrorCode::InvalidInput, "the download token has a control character");
    }
    check_limits(limits);
    Download download(source, id, size, dest_dir, limits, progress, cancel);
    return download.run();
}

}  // namespace ferry
