#include "dp_replicator.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>

#include "client_sightings.h"
#include "dp_api.h"
#include "dp_node_state.h"
#include "ferry/api_client.h"
#include "ferry/atomic_file.h"
#include "ferry/error.h"
#include "ferry/json.h"
#include "ferry/object_download.h"
#include "ferry/object_store.h"

namespace ferry::server {

namespace {

constexpr std::size_t kMaxRelayBytes = 8 << 20;  // the site takes 16 MiB a request

void log_event(const std::string& level, const std::string& message) {
    Poco::JSON::Object line;
    line.set("level", level);
    line.set("role", "dp");
    line.set("msg", message);
    std::ostringstream out;
    line.stringify(out);
    std::cerr << out.str() << std::endl;
}

std::string stringify(const Poco::JSON::Object& object) {
    std::ostringstream out;
    Poco::JSON::Stringifier::stringify(object, out);
    return out.str();
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
        text.pop_back();
    return text;
}

}  // namespace

DpReplicator::DpReplicator(SiteConfig config, std::string own_url, ClientSightings* sightings)
    : config_(std::move(config)),
      own_url_(std::move(own_url)),
      token_(trimmed(read_small_file(config_.parent_token_path(), 4096))),
      sightings_(sightings) {}

DpReplicator::~DpReplicator() { stop(); }

void DpReplicator::start() {
    thread_ = std::thread([this] { run(); });
}

void DpReplicator::stop() {
    {
        std::lock_guard<std::mutex> guard(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void DpReplicator::run() {
    int failures = 0;
    while (!stopping_) {
        try {
            sync_once();
            if (failures > 0) log_event("info", "replication from " + config_.parent + " resumed");
            failures = 0;
        } catch (const std::exception& e) {
            ++failures;
            log_event("warning", std::string("replication round failed (retrying): ") + e.what());
        }
        const int pause = std::min(300, config_.sync_interval_s << std::min(failures, 6));
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait_for(lock, std::chrono::seconds(pause), [this] { return stopping_.load(); });
    }
}

void DpReplicator::sync_once() {
    DpNodeState state(config_.dp_database_path());
    // Its address first (the site names it in its clients' policies), then the reports: they
    // are what a site outage holds back.
    heartbeat(state);
    forward_reports(state);
    forward_sightings();
    pull_feed(state);
    fetch_policies(state);
    fetch_objects(state);
}

void DpReplicator::heartbeat(DpNodeState& state) {
    const ObjectStore store(config_.data_dir);
    std::uint64_t bytes = 0;
    const auto ids = store.list();
    for (const auto& id : ids) bytes += store.size(id);
    Poco::JSON::Object body;
    body.set("url", own_url_);
    body.set("objects", static_cast<Poco::UInt64>(ids.size()));
    if (ids.size() <= kMaxHeldListed) {  // which ones, so that the site can say where each is
        Poco::JSON::Array held;
        for (const auto& id : ids) held.add(id);
        body.set("held", held);
    }
    body.set("bytes", bytes);
    body.set("queue", state.queue_length());
    const std::string synced = state.meta("synced_at");
    body.set("lag", synced.empty() ? 0 : std::time(nullptr) - std::stoll(synced));
    const auto answer =
        ApiClient(config_.parent, token_).post("/api/v1/dps/register", stringify(body));
    replica_ = answer->optValue<bool>("replica", false);
    const std::string text = answer->optValue<std::string>("schedule", "");
    if (text != schedule_.text()) {
        try {
            schedule_ = RateSchedule::parse(text);
            log_event("info", "replication schedule: " + (text.empty() ? "unlimited" : text));
        } catch (const Error& e) {
            log_event("warning", std::string("ignoring the schedule the parent sent: ") + e.what());
        }
    }
    bandwidth_.set_rate(schedule_.rate_at(std::time(nullptr)));
}

void DpReplicator::pull_feed(DpNodeState& state) {
    const ApiClient parent(config_.parent, token_);
    for (int page = 0; page < 100 && !stopping_; ++page) {
        const std::int64_t after = state.feed_cursor();
        const auto answer =
            parent.get("/api/v1/feed?after=" + std::to_string(after) + "&limit=1000");
        const auto entries = answer->getArray("entries");
        const std::int64_t next = answer->optValue<Poco::Int64>("next_after", after);
        if (!entries || entries->size() == 0) {
            if (next > after) state.set_feed_cursor(next);
            break;
        }
        sql::Transaction tx(state.db());
        std::int64_t last = std::max<std::int64_t>(after, next);
        for (std::size_t i = 0; i < entries->size(); ++i) {
            const auto entry = entries->getObject(static_cast<unsigned>(i));
            const std::string kind = entry->optValue<std::string>("kind", "");
            const std::string subject = entry->optValue<std::string>("subject", "");
            if (kind == "policy") state.mark_policy_stale(subject);
            const std::string detail = entry->optValue<std::string>("detail", "");
            if (kind == "object" && detail.rfind("library ", 0) == 0)
                state.put_library_object(subject, std::stoull(detail.substr(8)));
            if (kind == "client")
                state.put_client(subject, entry->optValue<std::string>("token_digest", ""),
                                 entry->optValue<std::string>("state", ""));
            last = std::max<std::int64_t>(last, entry->getValue<Poco::Int64>("seq"));
        }
        state.set_feed_cursor(last);
        tx.commit();
    }
    state.set_meta("synced_at", std::to_string(std::time(nullptr)));
}

void DpReplicator::fetch_policies(DpNodeState& state) {
    const ApiClient parent(config_.parent, token_);
    // In batches, one after another while each is full and moves something: a whole site's
    // policies (say after a change to every one) are fetched in one round, not one batch per
    // sync interval.
    constexpr std::size_t kBatch = 10000;
    for (int round = 0; round < 100; ++round) {
        const auto batch = state.stale_policies(kBatch);
        std::size_t settled = 0;
        for (const auto& client : batch) {
            if (stopping_) return;
            const auto raw = parent.get_raw("/api/v1/clients/" + client + "/policy");
            if (raw.status == 200) {
                const auto envelope = json::parse_object(raw.body, "policy of " + client);
                state.put_policy(
                    {client, static_cast<std::uint64_t>(envelope->getValue<Poco::Int64>("version")),
                     raw.etag, raw.body});
                ++settled;
            } else if (raw.status == 404 || raw.status == 409) {
                state.put_client_policy_gone(client);  // revoked, pending or unknown
                ++settled;
            } else if (raw.status != 503) {  // 503: still being built; asked again later
                throw Error(ErrorCode::Io, "the policy of " + client + " from " + config_.parent +
                                               ": HTTP " + std::to_string(raw.status));
            }
        }
        if (batch.size() < kBatch || settled == 0) return;
    }
}

void DpReplicator::fetch_objects(DpNodeState& state) {
    const ObjectStore store(config_.data_dir);
    const std::string incoming = config_.data_dir + "/incoming";
    std::filesystem::create_directories(incoming);
    std::set<std::string> wanted;
    const double rate = bandwidth_.rate();
    DownloadLimits limits;
    if (!std::isinf(rate)) limits.min_bytes_per_second = 0;  // slow on purpose, not stalled
    std::uint64_t last = 0;
    bool first = true;  // the first call reports what a resumed .part already holds
    const ProgressFn throttle = [&](std::uint64_t done, std::uint64_t) {
        if (!first && done > last) bandwidth_.acquire(done - last, &stopping_);
        first = false;
        last = done;
    };
    auto objects = state.wanted_objects();
    if (replica_)  // a copy of the whole library, not only what is advertised
        for (const auto& object : state.library_objects()) objects.push_back(object);
    for (const auto& object : objects) {
        wanted.insert(object.id);
        if (stopping_) return;
        if (store.exists(object.id)) continue;
        if (rate <= 0) {
            log_event("info", "replication paused by the schedule; " + object.id + " waits");
            continue;
        }
        last = 0;
        first = true;
        // Resumes a .part a killed DP left behind; verifies the id before anything is kept.
        const DownloadResult result =
            download_object({config_.parent, token_}, object.id, object.size, incoming, limits,
                            throttle, &stopping_);
        if (result.resumed_from > 0)
            log_event("info", "object " + object.id + " resumed at byte " +
                                  std::to_string(result.resumed_from) + " of " +
                                  std::to_string(object.size));
        const std::string fetched = incoming + "/" + object.id;
        store.put_file(fetched, object.id);
        std::filesystem::remove(fetched);
        log_event("info", "object " + object.id + " (" + std::to_string(object.size) +
                              " bytes) replicated");
    }
    // What no policy names any more goes, so a DP holds only what its clients need.
    for (const auto& id : store.list())
        if (!wanted.count(id) && store.remove(id)) log_event("info", "object " + id + " removed");
}

// The clients that polled here since they were last relayed, at most once a minute each, so the
// site knows them as seen (kind "seen"; the site takes 1000 items a relay).
void DpReplicator::forward_sightings() {
    if (!sightings_) return;
    const ApiClient parent(config_.parent, token_);
    while (!stopping_) {
        const std::int64_t now = std::time(nullptr);
        const auto uids = sightings_->due(now, 1000);
        if (uids.empty()) return;
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& uid : uids) {
            Poco::JSON::Object::Ptr item = new Poco::JSON::Object;
            item->set("client", uid);
            item->set("kind", "seen");
            item->set("body", Poco::JSON::Object::Ptr(new Poco::JSON::Object));
            items->add(item);
        }
        Poco::JSON::Object body;
        body.set("items", items);
        parent.post("/api/v1/dps/relay", stringify(body));  // throws: they stay due
        // Refusals (a client revoked meanwhile) are not retried: the next poll is refused too.
        sightings_->relayed(uids, now);
    }
}

void DpReplicator::forward_reports(DpNodeState& state) {
    const ApiClient parent(config_.parent, token_);
    while (!stopping_) {
        const auto queued = state.queued(1000);
        if (queued.empty()) return;
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        std::vector<QueuedReport> batch;
        std::size_t bytes = 0;
        for (const auto& report : queued) {
            if (!batch.empty() && bytes + report.body.size() > kMaxRelayBytes) break;
            Poco::JSON::Object::Ptr item = new Poco::JSON::Object;
            item->set("client", report.client_id);
            item->set("kind", report.kind);
            item->set("body", json::parse_object(report.body, "queued report", 2'000'000));
            items->add(item);
            batch.push_back(report);
            bytes += report.body.size();
        }
        Poco::JSON::Object body;
        body.set("items", items);
        const auto answer = parent.post("/api/v1/dps/relay", stringify(body));
        const auto results = answer->getArray("results");
        std::vector<std::int64_t> done;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto result = results ? results->getObject(static_cast<unsigned>(i)) : nullptr;
            const int status = result ? result->optValue<int>("status", 500) : 500;
            if (status >= 500) continue;  // kept: the next round sends it again
            if (status == 409 && batch[i].kind == "inventory")
                state.set_needs_full_inventory(batch[i].client_id, true);
            if (status >= 400)
                log_event("warning", "the parent refused a " + batch[i].kind + " report of " +
                                         batch[i].client_id + " (HTTP " + std::to_string(status) +
                                         "): " + result->optValue<std::string>("message", ""));
            done.push_back(batch[i].id);
        }
        state.forget_reports(done);
        if (done.size() < batch.size()) return;
    }
}

}  // namespace ferry::server
