// Runs a package's lifecycle script (scripts/install, check, uninstall) the way docs/agent.md
// promises: in the package's version directory, with a clean documented environment, its own
// process group, stdin from /dev/null, stdout and stderr appended to a log file, and a timeout
// after which the whole group gets SIGTERM and, 5 s later, SIGKILL.
//
// Written by hand on fork/exec: Poco::Process cannot put the child in its own process group,
// and a script's children must die with it when it times out.
#pragma once

#include <map>
#include <string>

namespace ferry::agent {

struct ScriptRun {
    std::string script;     // absolute path of the script
    std::string directory;  // working directory
    std::map<std::string, std::string> environment;
    int timeout_seconds = 600;
    std::string log_file;  // appended to; created 0600, rotated to .1 past 1 MiB
    // Set as FERRY_RUN_ID in the script's environment (inherited by whatever it starts), so
    // that after a kill of the agent kill_orphans() finds what is still running.
    std::string run_id;
    std::string title;  // the header line written to the log before the run
};

struct ScriptResult {
    int exit_code = 0;  // the script's exit status; 128+N when killed by signal N; -1 not run
    bool timed_out = false;
    std::string log_tail;  // the last 8 KiB of what this run wrote
};

// Error(Io) when the script cannot be started at all (not executable, no such file).
ScriptResult run_script(const ScriptRun& run);

// SIGKILLs every process whose environment holds FERRY_RUN_ID=`run_id`: scripts of a run the
// agent did not live to see finish. Returns how many there were.
int kill_orphans(const std::string& run_id);

// The last `max_bytes` of a file from `offset` on, cut at a line start where possible.
std::string file_tail(const std::string& path, long offset, std::size_t max_bytes);

}  // namespace ferry::agent
