// The workstation's inventory (DESIGN §8): facts about the hardware and the operating system,
// and the installed software, in the shapes the site's `POST /api/v1/clients/{id}/inventory`
// takes (docs/api.md). The agent sends a full report first, then only the changes against the
// last snapshot the site accepted, which it keeps as inventory_to_json().
//
// Facts (lowercase dotted keys, docs/collections.md), each absent when its source is unreadable:
//   os.name          NAME of os-release without a trailing " GNU/Linux" or " Linux"
//                    ("Debian GNU/Linux" -> "Debian", "Red Hat Enterprise Linux" -> "Red Hat
//                    Enterprise", "Linux Mint" stays): NAME's first word would turn Red Hat into
//                    "Red" and Linux Mint into "Linux".
//   os.id, os.version, os.pretty_name    ID, VERSION_ID, PRETTY_NAME of os-release
//   os.kernel, os.arch                   uname release and machine
//   net.hostname                         uname nodename (`hostname` is a column of the site)
//   hw.cpu.model                         /proc/cpuinfo "model name" (ARM, POWER, MIPS fallbacks)
//   hw.cores, hw.cpu.cores               logical processors listed in /proc/cpuinfo (numbers)
//   hw.memory_mb                         MemTotal of /proc/meminfo in MiB (number)
//   hw.vendor, hw.product                /sys/class/dmi/id/sys_vendor and product_name
//   disk.N.mount, disk.N.size_mb, disk.N.free_mb
//                                        statvfs of InventorySources::disk_mounts[N]; free is what
//                                        an unprivileged user may still use (f_bavail)
//   net.IF.ipv4, net.IF.ipv6, net.IF.mac interfaces that are up, loopback excepted; IF is the
//                                        name in [a-z0-9_] (anything else becomes '_'); ipv4 is
//                                        the primary address, ipv6 the first global one (else
//                                        the link-local one), mac absent when all zero
//   agent.version                        InventorySources::agent_version
// Text values are valid UTF-8, control characters replaced by spaces, trimmed, at most 1024
// bytes. Beyond 1000 facts (the site's limit) the last ones in key order are dropped.
//
// Software: every package /var/lib/dpkg/status lists as installed (state "installed" with no
// error flag: held packages and those marked for removal are still installed), name -> version
// (empty when the paragraph has none); a name installed for several architectures once (dpkg
// keeps their versions equal). Ferry's own packages as "ferry:NAME", a prefix no dpkg name can
// carry. At most 50000 in all (the site's limit): Ferry's are always kept, dpkg's beyond the
// limit are the last in name order. Names and versions longer than 256 bytes are left out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace ferry::agent {

// A fact's value: text, or a number (sent as a JSON number, so the site compares it as one).
using InventoryValue = std::variant<std::string, std::int64_t, double>;

constexpr std::size_t kMaxInventoryFacts = 1000;
constexpr std::size_t kMaxInventorySoftware = 50000;
constexpr const char* kFerrySoftwarePrefix = "ferry:";

struct Inventory {
    std::map<std::string, InventoryValue> facts;
    std::map<std::string, std::string> software;  // name -> version, one version per name
};

// Everything read from the system, so that tests can supply their own.
struct InventorySources {
    std::string system_root = "/";  // prefix of /proc, /etc/os-release, /var/lib/dpkg, /sys
    // statvfs targets, used as given (system_root is not applied): tests point them at a temp dir.
    std::vector<std::string> disk_mounts = {"/"};
    bool read_uname = true;               // os.kernel, os.arch, net.hostname
    bool read_interfaces = true;          // net.*
    std::string agent_version = "0.1.0";  // agent.version; empty leaves the fact out
};

// Never throws for a missing or unreadable source: what cannot be read is absent, and a
// malformed file yields what can be read of it.
Inventory collect_inventory(const InventorySources& sources,
                            const std::map<std::string, std::string>& ferry_packages);

// What changed from `before` to `after`: new or changed facts and packages with their new values,
// and the names of those that went away (sorted).
struct InventoryChange {
    std::map<std::string, InventoryValue> facts;
    std::vector<std::string> removed_facts;
    std::map<std::string, std::string> software;
    std::vector<std::string> removed_software;

    bool empty() const;
};

InventoryChange diff_inventory(const Inventory& before, const Inventory& after);

// {"facts": {KEY: VALUE, …}, "software": {NAME: VERSION, …}}, keys sorted, one entry a line: the
// snapshot the agent keeps of its last accepted report, and `ferry-agent inventory --json`.
// Error(InvalidInput) for a number that is not finite.
std::string inventory_to_json(const Inventory& inventory);
// The reverse; Error(InvalidInput) naming the field for anything else than what it writes.
Inventory inventory_from_json(const std::string& text);

// The site's report bodies (docs/api.md). A full report:
//   {"full": true, "seq": N, "facts": {…}, "software": [{"name", "version"?}, …]}
// a change on top of the report the site accepted as `base`:
//   {"full": false, "seq": N, "base": B, "facts": {…}, "software": […],
//    "removed_facts": […], "removed_software": […]}
// "version" is left out for a package without one. Error(InvalidInput) for seq < 1 or base < 0.
std::string full_report_json(const Inventory& inventory, std::int64_t seq);
std::string change_report_json(const InventoryChange& change, std::int64_t seq, std::int64_t base);

}  // namespace ferry::agent
