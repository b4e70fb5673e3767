#include "release_report.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <algorithm>
#include <sstream>

#include "rollout_api.h"

namespace ferry::server {

ReleaseReport ReleaseReporter::report(const Principal& reader, const std::string& reference,
                                      const std::string& state) {
    UserService::require(reader, Permission::ReadSite, "read release reports");
    ReleaseReport report;
    report.reference = reference;
    report.state = state;
    bool all_finished = true;
    for (const auto& ad : ads_.list()) {
        if (ad.release != reference) continue;
        ReleaseReport::Entry entry;
        entry.advertisement = ad;
        entry.status = ads_.report(ad.id, 0);
        if (const auto rollout = rollouts_.find_by_advertisement(ad.id)) {
            entry.rollout = rollouts_.report(*rollout);
            if (rollout->completed_at)
                report.finished_at =
                    std::max(report.finished_at.value_or(0), *rollout->completed_at);
            if (rollout->state == "active" || rollout->state == "halted") all_finished = false;
        }
        if (!report.started_at || ad.created_at < *report.started_at)
            report.started_at = ad.created_at;
        const std::string success = ad.action == "uninstall" ? "uninstalled" : "installed";
        for (const auto& [s, count] : entry.status.counts) {
            if (s == success) report.succeeded += count;
            if (s == "failed" || s == "refused") report.failed += count;
            if (s == "rolled-back") report.rolled_back += count;
        }
        report.entries.push_back(std::move(entry));
    }
    if (!all_finished) report.finished_at.reset();
    return report;
}

std::string release_report_json(const ReleaseReport& report) {
    Poco::JSON::Object o;
    o.set("release", report.reference);
    o.set("state", report.state);
    if (report.started_at) o.set("started_at", *report.started_at);
    if (report.finished_at) o.set("finished_at", *report.finished_at);
    if (report.started_at && report.finished_at)
        o.set("duration_s", *report.finished_at - *report.started_at);
    o.set("succeeded", report.succeeded);
    o.set("failed", report.failed);
    o.set("rolled_back", report.rolled_back);
    Poco::JSON::Array entries;
    for (const auto& entry : report.entries) {
        const Advertisement& ad = entry.advertisement;
        Poco::JSON::Object e;
        e.set("advertisement", advertisement_number(ad.id));
        e.set("package", ad.package + "@" + ad.version);
        e.set("action", ad.action);
        e.set("collection", ad.collection);
        e.set("state", ad.state);
        e.set("targeted", entry.status.targeted);
        Poco::JSON::Object counts;
        for (const auto& [state, count] : entry.status.counts) counts.set(state, count);
        e.set("counts", counts);
        if (entry.rollout) e.set("rollout", report_json(*entry.rollout));
        entries.add(e);
    }
    o.set("advertisements", entries);
    std::ostringstream out;
    o.stringify(out);
    return out.str();
}

}  // namespace ferry::server
