// Fixtures for tests that run a real ferryd: a site initialised in a temporary directory, the
// same site served on an ephemeral loopback port, and a small HTTP helper. Header-only because
// the program paths (FERRYD_BINARY …) are defined per test executable.
#pragma once

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "background_process.h"
#include "run_process.h"
#include "temp_dir.h"

namespace ferry::test {

struct HttpAnswer {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;
};

inline HttpAnswer http(std::uint16_t port, const std::string& method, const std::string& path,
                       const std::string& token = "", const std::string& body = "",
                       const std::map<std::string, std::string>& headers = {}) {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!token.empty()) request.set("Authorization", "Bearer " + token);
    for (const auto& [name, value] : headers) request.set(name, value);
    if (!body.empty() || method == "POST" || method == "PUT") {
        request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    HttpAnswer answer;
    answer.status = static_cast<int>(response.getStatus());
    for (const auto& [name, value] : response) answer.headers[name] = value;
    Poco::StreamCopier::copyToString(in, answer.body);
    return answer;
}

// One request on its own connection, read to the end of the answer's head, raw: the exact
// status line and headers as sent, whoever answered (the front's loop or Poco's handler).
inline std::string raw_head(std::uint16_t port, const std::string& request) {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
    socket.setReceiveTimeout(Poco::Timespan(10, 0));
    socket.sendBytes(request.data(), static_cast<int>(request.size()));
    std::string answer;
    char buffer[4096];
    while (answer.find("\r\n\r\n") == std::string::npos) {
        const int got = socket.receiveBytes(buffer, sizeof buffer);
        if (got <= 0) break;
        answer.append(buffer, static_cast<std::size_t>(got));
    }
    return answer.substr(0, answer.find("\r\n\r\n") + 2);
}

// The head without its Date line, which differs by the second.
inline std::string without_date(std::string head) {
    const auto at = head.find("Date: ");
    if (at != std::string::npos) head.erase(at, head.find("\r\n", at) + 2 - at);
    return head;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// The value of the first "field": "…" in a JSON answer ("" when absent).
inline std::string json_field(const std::string& body, const std::string& field) {
    const std::string key = "\"" + field + "\": \"";
    const auto at = body.find(key);
    if (at == std::string::npos) return {};
    const auto start = at + key.size();
    return body.substr(start, body.find('"', start) - start);
}

inline std::string token_in(const std::string& body) { return json_field(body, "token"); }

inline std::uint16_t port_from(const std::string& line) {
    return static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
}

struct InitialisedSite {
    TempDir dir;
    std::string token;
    InitialisedSite() {
        const auto init = run_process({FERRYD_BINARY, "init", "--role", "site", "--dir",
                                       dir / "site", "--listen", "127.0.0.1:0"});
        BOOST_TEST_REQUIRE(init.exit_code == 0, init.err);
        token = init.out.substr(init.out.rfind("admin_"));
        while (!token.empty() && token.back() == '\n') token.pop_back();
    }
    std::string config() const { return dir / "site/ferryd.ini"; }
};

struct RunningSite : InitialisedSite {
    BackgroundProcess ferryd{{FERRYD_BINARY, "--config", config()}};
    std::uint16_t port = port_from(ferryd.wait_for_line("listening on", std::chrono::seconds(10)));
    std::string server() const { return "http://127.0.0.1:" + std::to_string(port); }
    // ferryctl as the holder of `as`.
    ProcessResult ctl(const std::vector<std::string>& args, const std::string& as) const {
        std::vector<std::string> argv = {FERRYCTL_BINARY, "--server", server(), "--token", as};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv);
    }
};

}  // namespace ferry::test
