// Installer: the transactional install, uninstall and rollback of DESIGN §8, with a journal
// that makes a kill at any moment recoverable (THREATS.md 26–27).
//
// On disk a package is ROOT/NAME/VERSION/ (the extracted archive: files/, scripts/) and
// ROOT/NAME/current, a symlink to VERSION switched with rename(2), so it always names one
// complete version. The current version and the one before it stay on disk; rollback needs no
// network.
//
// install  extracting → installing (scripts/install) → switching (current → new) → checking
//          (scripts/check) → done. Any failure switches `current` back to the previous
//          version, runs that version's install hook again, removes the new directory and ends
//          `rolled-back`.
// uninstall  uninstalling (scripts/uninstall) → removing → done.
// rollback   switching (current → previous) → installing (the previous version's install hook)
//            → done; the tree of the previous version is checked against its manifest first
//            and restored from the cached object if it was altered.
//
// Each step is written to the journal before it is taken. recover() finishes what a kill
// interrupted: an install or rollback is undone (back to the version that was current), an
// uninstall interrupted in its script is undone, one interrupted while removing is finished.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "agent_paths.h"
#include "agent_state.h"
#include "ferry/manifest.h"

namespace ferry::agent {

struct Outcome {
    std::string state;  // installed, rolled-back, failed, refused, uninstalled
    std::optional<int> exit_code;
    std::string log_tail;
    std::string detail;  // one sentence for people
};

struct InstallRequest {
    std::string advertisement;
    std::string package;
    std::string version;
    std::string object_id;
    std::string signature;
    std::string object_path;  // the verified object in the cache
    Manifest manifest;        // as check_package() read it
};

// What running one lifecycle hook gave; a package without the hook "ran" nothing and passes.
struct HookResult {
    bool ran = false;
    int exit_code = 0;
    bool timed_out = false;
    std::string log_tail;
    bool ok() const { return exit_code == 0 && !timed_out; }
};

struct RecoveredOperation {
    JournalEntry entry;
    Outcome outcome;
};

class Installer {
  public:
    using Clock = std::function<std::int64_t()>;

    Installer(AgentState& state, AgentPaths paths, Clock clock);

    Outcome install(const InstallRequest& request);
    Outcome uninstall(const std::string& package, const std::string& advertisement);
    // Back to the previous version kept on disk. Error(NotFound) when there is none,
    // Error(VerificationFailed) when neither its tree nor its cached object can be trusted.
    Outcome rollback(const std::string& package);

    // Finishes or undoes the operation a kill interrupted, if any.
    std::optional<RecoveredOperation> recover();

    // Removes what no row names: version directories left by a kill after the database moved
    // on, and extraction staging directories.
    void sweep(const std::string& package);

    // Called after each journal step is durable: tests simulate a kill there by throwing.
    std::function<void(const std::string& step)> after_step;

  private:
    void step(std::int64_t journal, const std::string& name);
    // Puts `current` back on the entry's from-version (running its install hook again when the
    // new version's scripts may have touched the system) and removes the new directory.
    void undo_install(const JournalEntry& entry, bool rerun_previous_hook, std::string& log);
    void switch_current(const std::string& package, const std::string& version);
    void drop_current(const std::string& package);
    // Runs `hook` of the installed version `manifest` describes, if the package has it.
    HookResult run_hook(const Manifest& manifest, const std::string& hook,
                        const std::string& previous, const std::string& advertisement,
                        const std::string& reason);
    void ensure_previous_tree(const InstalledVersion& previous);
    void remove_version_dir(const std::string& package, const std::string& version);

    AgentState& state_;
    AgentPaths paths_;
    Clock clock_;
};

}  // namespace ferry::agent
