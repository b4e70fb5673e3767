#include "control_socket.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "ferry/error.h"
#include "ferry/json.h"

namespace ferry::agent {

namespace {

constexpr std::size_t kMaxMessage = 1 << 20;

sockaddr_un address_of(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path)
        throw Error(ErrorCode::InvalidInput,
                    "the control socket path " + path + " is too long for a Unix socket");
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    return address;
}

bool write_all_fd(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// Reads up to the first newline (or the end), at most kMaxMessage bytes.
std::string read_line(int fd) {
    std::string line;
    char buffer[4096];
    while (line.size() < kMaxMessage) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        line.append(buffer, static_cast<std::size_t>(n));
        if (line.find('\n') != std::string::npos) break;
    }
    const auto newline = line.find('\n');
    if (newline != std::string::npos) line.resize(newline);
    return line;
}

std::string stringify(const Poco::JSON::Object& object) {
    std::ostringstream text;
    Poco::JSON::Stringifier::stringify(object, text);
    return text.str();
}

// Script output may hold terminal escapes or stray control bytes: shown, not obeyed.
std::string printable(std::string text) {
    for (char& c : text)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') || c == 0x7f) c = '?';
    return text;
}

}  // namespace

ControlServer::ControlServer(std::string path, Handler handler)
    : path_(std::move(path)), handler_(std::move(handler)) {
    const sockaddr_un address = address_of(path_);
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener_ < 0) throw_system_error("cannot create the control socket");
    ::unlink(path_.c_str());  // a stale socket of a killed daemon; the lock file guards a live one
    const mode_t old_mask = ::umask(0077);
    const int bound =
        ::bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    ::umask(old_mask);
    if (bound != 0 || ::chmod(path_.c_str(), 0600) != 0 || ::listen(listener_, 16) != 0) {
        ::close(listener_);
        throw_system_error("cannot listen on the control socket " + path_);
    }
    thread_ = std::thread([this] { serve(); });
}

ControlServer::~ControlServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
    ::unlink(path_.c_str());
}

void ControlServer::serve() {
    while (!stop_) {
        pollfd waiting{listener_, POLLIN, 0};
        if (::poll(&waiting, 1, 200) <= 0) continue;
        const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (connection < 0) continue;
        answer(connection);
        ::close(connection);
    }
}

void ControlServer::answer(int connection) {
    Poco::JSON::Object reply;
    ucred peer{};
    socklen_t length = sizeof peer;
    if (::getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 ||
        (peer.uid != 0 && peer.uid != ::geteuid())) {
        reply.set("exit", 1);
        reply.set("out", "");
        reply.set("err", "ferry-agent: only root may control the agent\n");
        write_all_fd(connection, stringify(reply) + "\n");
        return;
    }
    timeval timeout{5, 0};
    ::setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    CommandResult result;
    try {
        const auto request = json::parse_object(read_line(connection), "control request");
        json::FieldReader in(request, "control request");
        ControlRequest parsed;
        parsed.command = in.string("command", true, 32);
        parsed.arg = in.string("arg", false, 256);
        parsed.seconds = in.integer("seconds", false, 0, 100LL * 365 * 86400);
        parsed.json = in.boolean("json", false);
        result = handler_(parsed);
    } catch (const std::exception& e) {
        result = {2, "", std::string("ferry-agent: ") + e.what() + "\n"};
    }
    reply.set("exit", result.exit_code);
    reply.set("out", printable(result.out));
    reply.set("err", printable(result.err));
    write_all_fd(connection, stringify(reply) + "\n");
}

std::optional<CommandResult> ask_daemon(const std::string& path, const ControlRequest& request) {
    const sockaddr_un address = address_of(path);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_system_error("cannot create a socket");
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return std::nullopt;  // no daemon (or a stale socket): the caller works directly
    }
    Poco::JSON::Object message;
    message.set("command", request.command);
    if (!request.arg.empty()) message.set("arg", request.arg);
    if (request.seconds) message.set("seconds", request.seconds);
    if (request.json) message.set("json", true);
    if (!write_all_fd(fd, stringify(message) + "\n")) {
        ::close(fd);
        throw Error(ErrorCode::Io, "the agent daemon closed the control socket " + path);
    }
    ::shutdown(fd, SHUT_WR);
    const std::string line = read_line(fd);
    ::close(fd);
    const auto answer = json::parse_object(line, "answer of the agent daemon", kMaxMessage);
    json::FieldReader in(answer, "answer of the agent daemon");
    return CommandResult{static_cast<int>(in.integer("exit", true, 0, 255)),
                         in.multiline_string("out", false, kMaxMessage),
                         in.multiline_string("err", false, kMaxMessage)};
}

}  // namespace ferry::agent
