// The control socket: how `ferry-agent install|postpone|rollback|list|…` reach the running
// daemon, so that only one process ever acts on the state and the network is never involved.
// A Unix stream socket in the state directory, mode 0600 in a 0700 directory, and every peer's
// credentials (SO_PEERCRED) checked: only root or the daemon's own user may talk to it.
//
// Protocol: one JSON object per connection each way, a line each: the request
// {"command": NAME, "arg": TEXT?, "seconds": N?, "json": BOOL?} and the answer
// {"exit": N, "out": TEXT, "err": TEXT}.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "agent.h"

namespace ferry::agent {

struct ControlRequest {
    std::string command;
    std::string arg;
    std::int64_t seconds = 0;
    bool json = false;
};

class ControlServer {
  public:
    using Handler = std::function<CommandResult(const ControlRequest&)>;
    // Binds the socket (replacing a stale one) and starts serving on a thread of its own.
    ControlServer(std::string path, Handler handler);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

  private:
    void serve();
    void answer(int connection);

    std::string path_;
    Handler handler_;
    int listener_ = -1;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// Sends a request to the daemon listening at `path`; nullopt when no daemon listens there.
std::optional<CommandResult> ask_daemon(const std::string& path, const ControlRequest& request);

}  // namespace ferry::agent
