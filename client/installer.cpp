#include "installer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <utility>

#include "ferry/error.h"
#include "ferry/hash.h"
#include "ferry/safe_extractor.h"
#include "ferry/token.h"
#include "ferry/version_order.h"
#include "package_check.h"
#include "script_runner.h"

namespace ferry::agent {

namespace fs = std::filesystem;

namespace {

void fsync_directory(const std::string& dir) {
    const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_system_error("cannot open " + dir);
    const int synced = fsync(fd);
    close(fd);
    if (synced != 0) throw_system_error("cannot sync " + dir);
}

std::string exit_text(const HookResult& hook, const std::string& name) {
    if (hook.timed_out) return "scripts/" + name + " timed out and was killed";
    return "scripts/" + name + " exited with " + std::to_string(hook.exit_code);
}

// The meta key naming the script run in progress, for recovery after a kill.
constexpr const char* kRunningScript = "running_script";

// ROOT and ROOT/NAME are for everyone to read and run from, whatever the agent's umask.
void make_public_dir(const std::string& dir) {
    fs::create_directories(dir);
    if (::chmod(dir.c_str(), 0755) != 0) throw_system_error("cannot chmod " + dir);
}

// Checks an installed tree against its manifest: every listed file is a regular file (never
// followed through a link) with the listed size and BLAKE2b-256, every link has its target.
// Files the scripts created are not the package's and are left alone.
std::string tree_mismatch(const std::string& dir, const Manifest& manifest) {
    for (const auto& entry : manifest.files) {
        const std::string path = dir + "/" + entry.path;
        struct stat st {};
        if (lstat(path.c_str(), &st) != 0) return entry.path + " is missing";
        if (entry.type != EntryType::Symlink && (st.st_mode & 07777) != entry.mode)
            return entry.path + " changed mode";
        if (entry.type == EntryType::Directory) {
            if (!S_ISDIR(st.st_mode)) return entry.path + " is no longer a directory";
        } else if (entry.type == EntryType::Symlink) {
            std::error_code ec;
            if (!S_ISLNK(st.st_mode) || fs::read_symlink(path, ec).string() != entry.target)
                return entry.path + " no longer links to " + entry.target;
        } else {
            if (!S_ISREG(st.st_mode)) return entry.path + " is no longer a regular file";
            if (static_cast<std::uint64_t>(st.st_size) != entry.size)
                return entry.path + " changed size";
            if (hash_file(path) != entry.blake2b) return entry.path + " changed";
        }
    }
    return {};
}

}  // namespace

Installer::Installer(AgentState& state, AgentPaths paths, Clock clock)
    : state_(state), paths_(std::move(paths)), clock_(std::move(clock)) {}

void Installer::step(std::int64_t journal, const std::string& name) {
    state_.journal_step(journal, name);
    if (after_step) after_step(name);
}

void Installer::switch_current(const std::string& package, const std::string& version) {
    const std::string link = paths_.current_link(package);
    const std::string temp = link + ".new";
    ::unlink(temp.c_str());
    if (symlink(version.c_str(), temp.c_str()) != 0)
        throw_system_error("cannot create the link " + temp);
    if (rename(temp.c_str(), link.c_str()) != 0) {
        ::unlink(temp.c_str());
        throw_system_error("cannot switch " + link + " to " + version);
    }
    fsync_directory(paths_.package_dir(package));
}

void Installer::drop_current(const std::string& package) {
    const std::string link = paths_.current_link(package);
    if (::unlink(link.c_str()) != 0 && errno != ENOENT) throw_system_error("cannot remove " + link);
}

void Installer::remove_version_dir(const std::string& package, const std::string& version) {
    if (version.empty()) return;
    std::error_code ec;
    fs::remove_all(paths_.version_dir(package, version), ec);  // never follows links
    if (ec)
        throw Error(ErrorCode::Io,
                    "cannot remove " + paths_.version_dir(package, version) + ": " + ec.message());
}

HookResult Installer::run_hook(const Manifest& manifest, const std::string& hook,
                               const std::string& previous, const std::string& advertisement,
                               const std::string& reason) {
    const std::string dir = paths_.version_dir(manifest.name, manifest.version);
    const std::string script = dir + "/scripts/" + hook;
    HookResult result;
    struct stat st {};
    if (lstat(script.c_str(), &st) != 0) return result;  // the package has no such hook
    fs::create_directories(paths_.state_dir + "/logs");
    ScriptRun run;
    run.script = script;
    run.directory = dir;
    run.timeout_seconds = manifest.timeout_for(hook);
    run.log_file = paths_.state_dir + "/logs/" + manifest.name + ".log";
    run.environment = {
        {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
        {"LANG", "C.UTF-8"},
        {"FERRY_ACTION", hook},
        {"FERRY_REASON", reason},
        {"FERRY_PACKAGE", manifest.name},
        {"FERRY_VERSION", manifest.version},
        {"FERRY_PREVIOUS_VERSION", previous},
        {"FERRY_PACKAGE_DIR", dir},
        {"FERRY_ROOT", paths_.root},
        {"FERRY_ADVERTISEMENT", advertisement},
    };
    run.run_id = generate_token("run");
    run.title = hook + " " + manifest.name + " " + manifest.version + " (" + reason +
                (advertisement.empty() ? "" : ", " + advertisement) + ")";
    state_.set_meta(kRunningScript, run.run_id);  // durable before the script can do anything
    const ScriptResult ran = run_script(run);
    state_.set_meta(kRunningScript, "");
    result.ran = true;
    result.exit_code = ran.exit_code;
    result.timed_out = ran.timed_out;
    result.log_tail = ran.log_tail;
    return result;
}

void Installer::undo_install(const JournalEntry& entry, bool rerun_previous_hook,
                             std::string& log) {
    const auto current = state_.version(entry.package, "current");
    if (current && !entry.from_version.empty()) {
        switch_current(entry.package, entry.from_version);
        if (rerun_previous_hook) {
            const Manifest previous =
                Manifest::parse_package(current->manifest_json, "installed " + entry.package);
            const HookResult again =
                run_hook(previous, "install", entry.to_version, entry.advertisement, "restore");
            if (!again.ok())
                log += "\nferry-agent: the install hook of " + entry.from_version +
                       " failed again (exit " + std::to_string(again.exit_code) + ")\n" +
                       again.log_tail;
        }
    } else {
        drop_current(entry.package);
    }
    if (entry.to_version != entry.from_version) remove_version_dir(entry.package, entry.to_version);
    if (entry.from_version.empty()) {
        // Nothing was installed before: the package's own directory goes too, if nothing else
        // is in it (a kept version would be).
        std::error_code ec;
        fs::remove(paths_.package_dir(entry.package), ec);
    }
}

Outcome Installer::install(const InstallRequest& request) {
    const auto current = state_.version(request.package, "current");
    if (current && current->version == request.version)
        return {"installed", std::nullopt, "",
                request.package + " " + request.version + " is already installed"};
    const auto previous = state_.version(request.package, "previous");
    const std::string from = current ? current->version : "";
    if (current && previous && previous->version == request.version &&
        previous->object_id == request.object_id) {
        // The kept copy is this very object: reinstating it is a rollback, which keeps the
        // current version as the one to come back to if it fails.
        try {
            Outcome back = rollback(request.package);
            if (back.state != "rolled-back") return back;
            back.state = "installed";
            back.detail = request.package + " " + request.version +
                          " reinstated from the kept copy (was " + from + ")";
            return back;
        } catch (const Error&) {
            // The kept copy cannot be trusted any more: a fresh install from the object below.
        }
    }

    make_public_dir(paths_.root);
    make_public_dir(paths_.package_dir(request.package));
    JournalEntry entry{0,
                       "install",
                       request.package,
                       from,
                       request.version,
                       request.advertisement,
                       "extracting",
                       clock_()};
    {
        sql::Transaction tx(state_.db());
        // Installing the version kept as previous replaces that copy: it is gone from here on.
        if (previous && previous->version == request.version) {
            std::vector<InstalledVersion> keep;
            if (current) keep.push_back(*current);
            state_.set_versions(request.package, keep);
        }
        entry.id = state_.begin_journal(entry);
        tx.commit();
    }
    if (after_step) after_step("extracting");
    const std::string target = paths_.version_dir(request.package, request.version);
    try {
        remove_version_dir(request.package, request.version);
        extract_package(request.object_path, target, {}, nullptr, request.object_id);
    } catch (const Error& e) {
        state_.end_journal(entry.id);
        const bool refused = e.code() == ErrorCode::VerificationFailed ||
                             e.code() == ErrorCode::UnsafeArchive ||
                             e.code() == ErrorCode::LimitExceeded;
        return {refused ? "refused" : "failed", std::nullopt, e.what(),
                "could not unpack " + request.package + " " + request.version + ": " + e.what()};
    }

    step(entry.id, "installing");
    const std::string reason = from.empty()                                  ? "install"
                               : compare_versions(request.version, from) > 0 ? "upgrade"
                                                                             : "downgrade";
    const HookResult installed =
        run_hook(request.manifest, "install", from, request.advertisement, reason);
    std::string log = installed.log_tail;
    if (!installed.ok()) {
        undo_install(entry, true, log);
        state_.end_journal(entry.id);
        return {"rolled-back", installed.exit_code, log,
                exit_text(installed, "install") + "; " +
                    (from.empty() ? "nothing was installed before" : "back on " + from)};
    }

    step(entry.id, "switching");
    switch_current(request.package, request.version);
    step(entry.id, "checking");
    const HookResult checked =
        run_hook(request.manifest, "check", from, request.advertisement, "check");
    log += checked.log_tail;
    if (!checked.ok()) {
        undo_install(entry, true, log);
        state_.end_journal(entry.id);
        return {"rolled-back", checked.exit_code, log,
                "the health check failed (" + exit_text(checked, "check") + "); " +
                    (from.empty() ? "removed again" : "back on " + from)};
    }

    std::vector<InstalledVersion> rows;
    rows.push_back({request.package, request.version, request.object_id, request.manifest.to_json(),
                    request.signature, "current", request.advertisement, clock_()});
    if (current) {
        InstalledVersion kept = *current;
        kept.role = "previous";
        rows.push_back(kept);
    }
    {
        sql::Transaction tx(state_.db());
        state_.set_versions(request.package, rows);
        state_.end_journal(entry.id);
        tx.commit();
    }
    sweep(request.package);
    return {"installed", installed.ran ? std::optional<int>(0) : std::nullopt, log,
            request.package + " " + request.version + " installed" +
                (from.empty() ? "" : " (was " + from + ")")};
}

Outcome Installer::uninstall(const std::string& package, const std::string& advertisement) {
    const auto current = state_.version(package, "current");
    if (!current) return {"uninstalled", std::nullopt, "", package + " is not installed"};
    const Manifest manifest =
        Manifest::parse_package(current->manifest_json, "installed " + package);
    JournalEntry entry{0,  "uninstall",   package,        current->version,
                       "", advertisement, "uninstalling", clock_()};
    entry.id = state_.begin_journal(entry);
    if (after_step) after_step("uninstalling");
    const HookResult hook = run_hook(manifest, "uninstall", "", advertisement, "uninstall");
    if (!hook.ok()) {
        state_.end_journal(entry.id);
        return {"failed", hook.exit_code, hook.log_tail,
                exit_text(hook, "uninstall") + "; " + package + " " + current->version +
                    " stays installed"};
    }
    step(entry.id, "removing");
    drop_current(package);
    {
        sql::Transaction tx(state_.db());
        state_.set_versions(package, {});
        state_.end_journal(entry.id);
        tx.commit();
    }
    sweep(package);
    return {"uninstalled", hook.ran ? std::optional<int>(0) : std::nullopt, hook.log_tail,
            package + " " + current->version + " uninstalled"};
}

void Installer::ensure_previous_tree(const InstalledVersion& previous) {
    const Manifest manifest =
        Manifest::parse_package(previous.manifest_json, "installed " + previous.name);
    const std::string dir = paths_.version_dir(previous.name, previous.version);
    const std::string mismatch = tree_mismatch(dir, manifest);
    if (mismatch.empty()) return;
    // The tree was altered: rebuild it from the cached object, if that still verifies.
    const std::string object = paths_.cache_dir() + "/" + previous.object_id;
    try {
        check_cached_package(object, previous.object_id, previous.name, previous.version);
    } catch (const Error& e) {
        throw Error(ErrorCode::VerificationFailed, "cannot roll back " + previous.name + " to " +
                                                       previous.version + ": " + mismatch + " in " +
                                                       dir + ", and " + e.what());
    } catch (const std::exception&) {
        throw Error(ErrorCode::VerificationFailed, "cannot roll back " + previous.name + " to " +
                                                       previous.version + ": " + mismatch + " in " +
                                                       dir + ", and its cached object is gone");
    }
    remove_version_dir(previous.name, previous.version);
    extract_package(object, dir, {}, nullptr, previous.object_id);
}

Outcome Installer::rollback(const std::string& package) {
    const auto current = state_.version(package, "current");
    const auto previous = state_.version(package, "previous");
    if (!current) throw Error(ErrorCode::NotFound, package + " is not installed");
    if (!previous)
        throw Error(ErrorCode::NotFound, "no previous version of " + package +
                                             " is kept; there is nothing to roll back to");
    ensure_previous_tree(*previous);  // before anything changes: a refusal leaves all as it was
    JournalEntry entry{0,  "rollback",  package, current->version, previous->version,
                       "", "switching", clock_()};
    entry.id = state_.begin_journal(entry);
    if (after_step) after_step("switching");
    switch_current(package, previous->version);
    step(entry.id, "installing");
    const Manifest manifest =
        Manifest::parse_package(previous->manifest_json, "installed " + package);
    const HookResult hook =
        run_hook(manifest, "install", current->version, previous->advertisement, "rollback");
    if (!hook.ok()) {
        // Back on the version that was current, with its own install hook run again: the
        // previous version's hook may have changed things on its way to failing.
        switch_current(package, current->version);
        const Manifest current_manifest =
            Manifest::parse_package(current->manifest_json, "installed " + package);
        run_hook(current_manifest, "install", previous->version, current->advertisement, "restore");
        state_.end_journal(entry.id);
        return {"failed", hook.exit_code, hook.log_tail,
                exit_text(hook, "install") + " of " + previous->version + "; stays on " +
                    current->version};
    }
    InstalledVersion now_current = *previous, now_previous = *current;
    now_current.role = "current";
    now_previous.role = "previous";
    {
        sql::Transaction tx(state_.db());
        state_.set_versions(package, {now_current, now_previous});
        state_.end_journal(entry.id);
        tx.commit();
    }
    return {"rolled-back", hook.ran ? std::optional<int>(0) : std::nullopt, hook.log_tail,
            package + " rolled back from " + current->version + " to " + previous->version};
}

std::optional<RecoveredOperation> Installer::recover() {
    // A script the killed agent started may still run: it must not race the undo below.
    const std::string orphan_run = state_.meta(kRunningScript);
    if (!orphan_run.empty()) {
        kill_orphans(orphan_run);
        state_.set_meta(kRunningScript, "");
    }
    const auto entry = state_.open_journal();
    if (!entry) return std::nullopt;
    RecoveredOperation recovered{*entry, {}};
    std::string log = "ferry-agent: the " + entry->operation + " of " + entry->package +
                      " was interrupted at step " + entry->step + "\n";
    Outcome& outcome = recovered.outcome;
    if (entry->operation == "install") {
        // Scripts of the new version may have run from "installing" on: the old version's
        // install hook puts back what they changed.
        undo_install(*entry, entry->step != "extracting", log);
        outcome = {"failed", std::nullopt, log,
                   "interrupted install of " + entry->package + " " + entry->to_version + "; " +
                       (entry->from_version.empty() ? "nothing installed"
                                                    : "back on " + entry->from_version)};
    } else if (entry->operation == "uninstall" && entry->step == "removing") {
        drop_current(entry->package);
        {
            sql::Transaction tx(state_.db());
            state_.set_versions(entry->package, {});
            state_.end_journal(entry->id);
            tx.commit();
        }
        sweep(entry->package);
        return RecoveredOperation{*entry,
                                  {"uninstalled", std::nullopt, log,
                                   entry->package + " " + entry->from_version +
                                       " uninstalled (finished after a restart)"}};
    } else if (entry->operation == "uninstall") {
        if (const auto current = state_.version(entry->package, "current")) {
            const Manifest manifest =
                Manifest::parse_package(current->manifest_json, "installed " + entry->package);
            run_hook(manifest, "install", "", entry->advertisement, "restore");
        }
        outcome = {"failed", std::nullopt, log,
                   "interrupted uninstall of " + entry->package + "; " + entry->from_version +
                       " stays installed"};
    } else {  // rollback: back where it started
        switch_current(entry->package, entry->from_version);
        if (entry->step != "switching") {
            if (const auto current = state_.version(entry->package, "current")) {
                const Manifest manifest =
                    Manifest::parse_package(current->manifest_json, "installed " + entry->package);
                run_hook(manifest, "install", entry->to_version, "", "restore");
            }
        }
        outcome = {
            "failed", std::nullopt, log,
            "interrupted rollback of " + entry->package + "; stays on " + entry->from_version};
    }
    state_.end_journal(entry->id);
    sweep(entry->package);
    return recovered;
}

void Installer::sweep(const std::string& package) {
    const std::string dir = paths_.package_dir(package);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;
    if (state_.open_journal()) return;  // never while an operation may still need a directory
    std::set<std::string> keep = {"current"};
    for (const auto& row : state_.versions(package)) keep.insert(row.version);
    for (const auto& item : fs::directory_iterator(dir, ec)) {
        const std::string name = item.path().filename().string();
        if (keep.count(name)) continue;
        fs::remove_all(item.path(), ec);
    }
    if (keep.size() == 1) fs::remove(dir, ec);  // empty once nothing is installed
}

}  // namespace ferry::agent
