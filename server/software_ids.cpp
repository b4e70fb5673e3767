#include "software_ids.h"

#include <mutex>

namespace ferry::server {
namespace {

// Names and versions never hold a NUL (inventory_json refuses control characters in them), so
// the pair reads back unambiguously. One buffer per thread: no allocation per lookup.
const std::string& key_of(std::string_view name, std::string_view version) {
    thread_local std::string key;
    key.assign(name);
    key.push_back('\0');
    key.append(version);
    return key;
}

}  // namespace

std::optional<std::int64_t> SoftwareIds::find(std::string_view name,
                                              std::string_view version) const {
    const std::string& key = key_of(name, version);
    const std::shared_lock lock(mutex_);
    const auto found = ids_.find(key);
    if (found == ids_.end()) return std::nullopt;
    return found->second;
}

std::vector<std::int64_t> SoftwareIds::find_all(const std::vector<Pair>& pairs) const {
    std::vector<std::int64_t> ids(pairs.size(), 0);
    const std::shared_lock lock(mutex_);
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        const auto found = ids_.find(key_of(pairs[i].first, pairs[i].second));
        if (found != ids_.end()) ids[i] = found->second;
    }
    return ids;
}

void SoftwareIds::learn(std::string_view name, std::string_view version, std::int64_t id) {
    const std::string& key = key_of(name, version);
    const std::unique_lock lock(mutex_);
    if (ids_.size() >= kMaxEntries) return;
    ids_.emplace(key, id);
}

std::size_t SoftwareIds::size() const {
    const std::shared_lock lock(mutex_);
    return ids_.size();
}

}  // namespace ferry::server
