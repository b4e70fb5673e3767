#include "client_sightings.h"

namespace ferry::server {

void ClientSightings::saw(const std::string& uid, std::int64_t now) {
    const std::lock_guard<std::mutex> lock(mutex_);
    Sighting& sighting = clients_[uid];
    if (now > sighting.last_seen) sighting.last_seen = now;
}

std::vector<std::string> ClientSightings::due(std::int64_t now, std::size_t limit) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [uid, sighting] : clients_) {
        if (out.size() >= limit) break;
        const bool news = sighting.last_seen > sighting.last_relayed;
        const bool rested = sighting.last_relayed == 0 || now - sighting.last_relayed >= kInterval;
        if (news && rested) out.push_back(uid);
    }
    return out;
}

void ClientSightings::relayed(const std::vector<std::string>& uids, std::int64_t now) {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& uid : uids) {
        const auto found = clients_.find(uid);
        if (found != clients_.end()) found->second.last_relayed = now;
    }
}

}  // namespace ferry::server
