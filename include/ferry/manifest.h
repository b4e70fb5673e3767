// Manifest: the model of a package's ferry.json (DESIGN §4), its validation and its canonical
// JSON form.
//
// Two shapes of ferry.json exist. The *source* manifest is what a package author writes: every
// field but `files` and `scripts`, which `build` computes. The *package* manifest is the first
// entry of every .ferry archive: the same fields plus the full list of entries with their
// types, modes, sizes and BLAKE2b-256 hashes. Readers trust nothing in an archive that the
// package manifest does not list.
//
// Validation errors are Error(InvalidInput) whose message names the source and the field, e.g.
// `hello-1.0/ferry.json: field "version": must start with a digit`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ferry {

enum class EntryType { File, Directory, Symlink };

const char* entry_type_name(EntryType type);

struct ManifestEntry {
    std::string path;  // archive path: "files/…" or "scripts/<hook>"
    EntryType type = EntryType::File;
    std::uint32_t mode = 0644;  // 0644 or 0755 for files; 0755 for directories; 0777 for links
    std::uint64_t size = 0;     // files only
    std::string blake2b;        // files only: hex BLAKE2b-256 of the content
    std::string target;         // symlinks only: relative target without ".."
};

struct Dependency {
    std::string name;
    std::string min_version;  // empty: any version
};

// Lifecycle scripts a package may carry, in scripts/<hook>.
const std::vector<std::string>& known_hooks();

// Most entries a package may list unless a reader configures otherwise.
constexpr std::size_t kDefaultMaxEntries = 100'000;

// How many JSON value units (json::parse_object) a manifest of `max_entries` entries may hold:
// an entry is one object (8) of at most six fields (6), and the top level has its own few.
constexpr std::size_t manifest_value_budget(std::size_t max_entries) {
    return 14 * max_entries + 10'000;
}

struct Manifest {
    static constexpr int kFormat = 1;

    int format = kFormat;
    std::string name;
    std::string version;
    std::string description;
    std::string publisher;
    std::string release;            // release reference (REL-YYYY-NNNN), optional
    std::vector<std::string> rfcs;  // RFC references, optional
    std::string requirements;       // collection query the client must satisfy, optional
    std::vector<Dependency> dependencies;
    std::vector<std::string> scripts;     // hooks present, computed by build
    std::map<std::string, int> timeouts;  // hook -> seconds
    bool reboot = false;                  // the package asks for a reboot after install
    std::vector<ManifestEntry> files;     // computed by build, sorted by path

    // Parses and validates the author's ferry.json; `files` and `scripts` must be absent.
    static Manifest parse_source(const std::string& json, const std::string& source);
    // Parses and validates the ferry.json inside a package, refusing more than `max_entries`
    // entries before the document is fully built in memory.
    static Manifest parse_package(const std::string& json, const std::string& source,
                                  std::size_t max_entries = kDefaultMaxEntries);

    // Canonical JSON (sorted keys, two-space indent, trailing newline): the same manifest
    // always serialises to the same bytes.
    std::string to_json() const;

    // Checks every field of a package manifest; throws naming the first bad field.
    void validate_package(const std::string& source) const;

    // Timeout for a hook: the manifest's value or the default.
    int timeout_for(const std::string& hook) const;

    // Sum of file sizes, saturating at UINT64_MAX instead of wrapping.
    std::uint64_t total_file_bytes() const;
};

// Default timeout (seconds) of each hook when the manifest does not set one.
constexpr int kDefaultHookTimeoutSeconds = 600;

// Field validators shared with other readers of names and versions.
bool is_valid_package_name(const std::string& name);
bool is_valid_version(const std::string& version);

// Checks an archive path: relative, under files/ or scripts/, no empty, "." or ".."
// components, no control characters, at most `max_bytes` long and `max_depth` deep.
// Returns an empty string when valid, otherwise the reason.
std::string check_entry_path(const std::string& path, std::size_t max_bytes = 1024,
                             std::size_t max_depth = 32);

// Checks a symlink target: non-empty, relative, without ".." components. Returns the reason
// or an empty string.
std::string check_symlink_target(const std::string& target);

}  // namespace ferry
