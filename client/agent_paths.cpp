#include "agent_paths.h"

#include <utility>

namespace ferry::agent {

namespace {
std::string without_trailing_slash(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}
}  // namespace

AgentPaths::AgentPaths(std::string state_dir_in, std::string root_in)
    : state_dir(without_trailing_slash(std::move(state_dir_in))),
      root(without_trailing_slash(std::move(root_in))) {}

std::string AgentPaths::database() const { return state_dir + "/agent.db"; }
std::string AgentPaths::cache_dir() const { return state_dir + "/cache"; }
std::string AgentPaths::socket() const { return state_dir + "/agent.sock"; }
std::string AgentPaths::lock() const { return state_dir + "/agent.lock"; }
std::string AgentPaths::package_dir(const std::string& name) const { return root + "/" + name; }
std::string AgentPaths::version_dir(const std::string& name, const std::string& version) const {
    return package_dir(name) + "/" + version;
}
std::string AgentPaths::current_link(const std::string& name) const {
    return package_dir(name) + "/current";
}

}  // namespace ferry::agent
