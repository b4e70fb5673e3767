// SoftwareIds: the ids of the software table's entries (a package name at a version), held in
// memory and shared by every connection of the process.
//
// A client's inventory stores each installed package as the id of its (name, version) entry,
// so that the rows a report rewrites are two integers each (server/site_schema.cpp, "inventory
// software by number"). Working out a report's difference then means finding the id of each
// package it names: 225 lookups per report, which this map answers without a query.
//
// Only committed ids are learnt, and entries of the software table are never deleted or
// renumbered, so an id found here stays right for the life of the process. A miss is never
// wrong either: the store then asks the database. The map stops learning at kMaxEntries (about
// 30 MiB), so clients that report ever new versions cannot grow ferryd's memory without bound.
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ferry::server {

class SoftwareIds {
  public:
    static constexpr std::size_t kMaxEntries = 1 << 18;

    std::optional<std::int64_t> find(std::string_view name, std::string_view version) const;
    // The ids of (name, version) pairs, 0 for those not known, under one lock: a report's 225
    // lookups from 16 request threads, each taking the lock, were 5% of ferryd's CPU.
    using Pair = std::pair<std::string_view, std::string_view>;
    std::vector<std::int64_t> find_all(const std::vector<Pair>& pairs) const;
    // `id` must be committed: see above.
    void learn(std::string_view name, std::string_view version, std::int64_t id);
    std::size_t size() const;

  private:
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::string, std::int64_t> ids_;  // key: name '\0' version
};

}  // namespace ferry::server
