// Where the agent keeps its files (docs/agent.md, "Files it keeps"). One place names them all so
// that the daemon, the user-facing commands and the tests agree.
//
//   STATE_DIR/agent.db        SQLite state: enrolment, accepted policy, installed packages,
//                             advertisement state, journal, status outbox, inventory
//   STATE_DIR/cache/          downloaded objects, content-addressed (OBJECT_ID, OBJECT_ID.part)
//   STATE_DIR/agent.sock      the control socket of the running daemon (0600, root)
//   STATE_DIR/agent.lock      held (flock) by the one process that acts on the state
//   ROOT/NAME/VERSION/        an installed version; ROOT/NAME/current -> VERSION
#pragma once

#include <string>

namespace ferry::agent {

constexpr const char* kDefaultStateDir = "/var/lib/ferry-agent";
constexpr const char* kDefaultRoot = "/opt/ferry";

struct AgentPaths {
    std::string state_dir;
    std::string root;

    AgentPaths(std::string state_dir, std::string root);

    std::string database() const;
    std::string cache_dir() const;
    std::string socket() const;
    std::string lock() const;
    std::string package_dir(const std::string& name) const;
    std::string version_dir(const std::string& name, const std::string& version) const;
    std::string current_link(const std::string& name) const;
};

}  // namespace ferry::agent
