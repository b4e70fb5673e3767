#include "inventory.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Stringifier.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "ferry/error.h"
#include "ferry/json.h"

namespace ferry::agent {
namespace {

constexpr std::size_t kMaxFactText = 1024;  // the site's limit on a fact's text
constexpr std::size_t kMaxNameBytes = 256;  // … and on a package's name and version
// A line longer than this is cut: no field we read is near it, and a corrupt file with one
// endless line must not cost its size in memory.
constexpr std::size_t kMaxLine = 64 * 1024;

// ---- Text ------------------------------------------------------------------------------------

// The length of the well-formed UTF-8 character at text[i], or 0 when there is none (the site's
// JSON parser refuses a document with a single bad byte).
std::size_t utf8_length(const std::string& text, std::size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) return 1;
    std::size_t length = 0;
    if (lead >= 0xC2 && lead <= 0xDF)
        length = 2;
    else if (lead >= 0xE0 && lead <= 0xEF)
        length = 3;
    else if (lead >= 0xF0 && lead <= 0xF4)
        length = 4;
    else
        return 0;
    if (i + length > text.size()) return 0;
    for (std::size_t k = 1; k < length; ++k) {
        if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
    }
    const auto second = static_cast<unsigned char>(text[i + 1]);
    if (lead == 0xE0 && second < 0xA0) return 0;  // overlong
    if (lead == 0xED && second > 0x9F) return 0;  // UTF-16 surrogates
    if (lead == 0xF0 && second < 0x90) return 0;  // overlong
    if (lead == 0xF4 && second > 0x8F) return 0;  // beyond U+10FFFF
    return length;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string trim(const std::string& text) {
    std::size_t begin = 0;
    std::size_t end = text.size();
    while (begin < end && is_space(text[begin])) ++begin;
    while (end > begin && is_space(text[end - 1])) --end;
    return text.substr(begin, end - begin);
}

// What the site accepts as text: valid UTF-8 (a bad byte becomes '?') without control characters
// (they become spaces), trimmed, at most `max_bytes`, cut between characters.
std::string clean_text(const std::string& raw, std::size_t max_bytes) {
    const std::string text = trim(raw);
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = utf8_length(text, i);
        const std::size_t produced = length == 0 ? 1 : length;
        if (out.size() + produced > max_bytes) break;
        const auto c = static_cast<unsigned char>(text[i]);
        if (length == 0)
            out += '?';
        else if (c < 0x20 || c == 0x7f)
            out += ' ';
        else
            out.append(text, i, length);
        i += produced;
    }
    return trim(out);
}

// A package name or version is sent only as it is: altering it would report a package that is
// not installed.
bool is_reportable_name(const std::string& text) {
    return text.size() <= kMaxNameBytes && clean_text(text, kMaxNameBytes) == text;
}

// An interface name as one part of a fact key: [a-z0-9_], anything else '_'.
std::string key_part(const std::string& name) {
    std::string out;
    for (const char c : name) {
        if (c >= 'A' && c <= 'Z')
            out += static_cast<char>(c - 'A' + 'a');
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
            out += c;
        else
            out += '_';
    }
    return out;
}

// The site's rule (server/client.cpp is_fact_key): lowercase dotted, at most 64.
bool is_fact_key(const std::string& key) {
    if (key.empty() || key.size() > 64 || !(key[0] >= 'a' && key[0] <= 'z')) return false;
    char previous = 0;
    for (const char c : key) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
        if (!ok || (c == '.' && previous == '.')) return false;
        previous = c;
    }
    return key.back() != '.';
}

bool parse_integer(const std::string& text, std::int64_t& value) {
    const char* end = text.data() + text.size();
    const auto result = std::from_chars(text.data(), end, value);
    return result.ec == std::errc() && result.ptr == end;
}

// ---- Files -----------------------------------------------------------------------------------

std::string under_root(const InventorySources& sources, const std::string& absolute) {
    std::string root = sources.system_root;
    while (!root.empty() && root.back() == '/') root.pop_back();
    return root + absolute;
}

// One line without its '\n', cut at kMaxLine; false at the end of the stream.
bool read_line(std::streambuf& in, std::string& line) {
    line.clear();
    bool any = false;
    for (int c = in.sbumpc(); c != std::char_traits<char>::eof(); c = in.sbumpc()) {
        any = true;
        if (c == '\n') return true;
        if (line.size() < kMaxLine) line += static_cast<char>(c);
    }
    return any;
}

// Calls `on_line` for every line of the file, streaming it; false when it cannot be opened.
template <typename OnLine>
bool for_each_line(const std::string& path, OnLine&& on_line) {
    std::ifstream file(path, std::ios::binary);
    if (!file.is_open()) return false;
    std::string line;
    while (read_line(*file.rdbuf(), line)) on_line(line);
    return true;
}

std::string first_line(const std::string& path) {
    std::string first;
    bool seen = false;
    for_each_line(path, [&](const std::string& line) {
        if (!seen) first = line;
        seen = true;
    });
    return first;
}

// "Key: value" (cpuinfo, meminfo, dpkg): false for a line without a colon.
bool split_field(const std::string& line, std::string& key, std::string& value) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) return false;
    key = trim(line.substr(0, colon));
    value = trim(line.substr(colon + 1));
    return true;
}

void set_text(Inventory& inventory, const std::string& key, const std::string& raw) {
    std::string text = clean_text(raw, kMaxFactText);
    if (!text.empty()) inventory.facts[key] = std::move(text);
}

// ---- Operating system ------------------------------------------------------------------------

// A value of os-release(5): shell-like, in double quotes (with \" \\ \$ \` escapes), single
// quotes, or bare.
std::string os_release_value(const std::string& raw) {
    const std::string text = trim(raw);
    if (text.empty() || (text[0] != '"' && text[0] != '\'')) return text;
    const char quote = text[0];
    std::string out;
    for (std::size_t i = 1; i < text.size() && text[i] != quote; ++i) {
        if (quote == '"' && text[i] == '\\' && i + 1 < text.size()) ++i;
        out += text[i];
    }
    return out;
}

// "Debian GNU/Linux" -> "Debian", "Fedora Linux" -> "Fedora"; see inventory.h for why not the
// first word.
std::string os_name(const std::string& name) {
    for (const std::string suffix : {" GNU/Linux", " Linux"}) {
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
            return name.substr(0, name.size() - suffix.size());
    }
    return name;
}

void read_os_release(const InventorySources& sources, Inventory& inventory) {
    std::map<std::string, std::string> fields;
    const auto on_line = [&](const std::string& line) {
        const auto equals = line.find('=');
        if (line.empty() || line[0] == '#' || equals == std::string::npos) return;
        fields[trim(line.substr(0, equals))] = os_release_value(line.substr(equals + 1));
    };
    // os-release(5): /etc/os-release, else /usr/lib/os-release.
    if (!for_each_line(under_root(sources, "/etc/os-release"), on_line))
        for_each_line(under_root(sources, "/usr/lib/os-release"), on_line);
    set_text(inventory, "os.name", os_name(fields["NAME"]));
    set_text(inventory, "os.id", fields["ID"]);
    set_text(inventory, "os.version", fields["VERSION_ID"]);
    set_text(inventory, "os.pretty_name", fields["PRETTY_NAME"]);
}

void read_uname(Inventory& inventory) {
    struct utsname names {};
    if (uname(&names) != 0) return;
    set_text(inventory, "os.kernel", names.release);
    set_text(inventory, "os.arch", names.machine);
    set_text(inventory, "net.hostname", names.nodename);
}

// ---- Hardware --------------------------------------------------------------------------------

// The CPU model: x86 says "model name"; other architectures name it differently, the most
// specific name first.
int cpu_model_rank(const std::string& key) {
    static const char* const kKeys[] = {"model name", "Processor", "cpu model", "cpu"};
    for (int rank = 0; rank < 4; ++rank) {
        if (key == kKeys[rank]) return rank;
    }
    return -1;
}

void read_cpuinfo(const InventorySources& sources, Inventory& inventory) {
    std::int64_t processors = 0;
    std::string model;
    int model_rank = 4;
    for_each_line(under_root(sources, "/proc/cpuinfo"), [&](const std::string& line) {
        std::string key, value;
        if (!split_field(line, key, value)) return;
        if (key == "processor") ++processors;
        const int rank = cpu_model_rank(key);
        if (rank >= 0 && rank < model_rank && !value.empty()) {
            model = value;
            model_rank = rank;
        }
    });
    set_text(inventory, "hw.cpu.model", model);
    if (processors > 0) {
        inventory.facts["hw.cores"] = processors;
        inventory.facts["hw.cpu.cores"] = processors;
    }
}

void read_meminfo(const InventorySources& sources, Inventory& inventory) {
    for_each_line(under_root(sources, "/proc/meminfo"), [&](const std::string& line) {
        std::string key, value;
        if (!split_field(line, key, value) || key != "MemTotal") return;
        std::int64_t kib = 0;
        if (parse_integer(value.substr(0, value.find(' ')), kib) && kib > 0)
            inventory.facts["hw.memory_mb"] = kib / 1024;
    });
}

void read_dmi(const InventorySources& sources, Inventory& inventory) {
    set_text(inventory, "hw.vendor",
             first_line(under_root(sources, "/sys/class/dmi/id/sys_vendor")));
    set_text(inventory, "hw.product",
             first_line(under_root(sources, "/sys/class/dmi/id/product_name")));
}

// disk.N keeps the position N in disk_mounts, so a mount that cannot be read for a moment does
// not renumber the others.
void read_disks(const InventorySources& sources, Inventory& inventory) {
    constexpr std::uint64_t kMiB = 1024 * 1024;
    for (std::size_t n = 0; n < sources.disk_mounts.size(); ++n) {
        struct statvfs fs {};
        if (statvfs(sources.disk_mounts[n].c_str(), &fs) != 0) continue;
        const std::string prefix = "disk." + std::to_string(n) + ".";
        const std::uint64_t unit = fs.f_frsize != 0 ? fs.f_frsize : fs.f_bsize;
        set_text(inventory, prefix + "mount", sources.disk_mounts[n]);
        inventory.facts[prefix + "size_mb"] = static_cast<std::int64_t>(fs.f_blocks * unit / kMiB);
        inventory.facts[prefix + "free_mb"] = static_cast<std::int64_t>(fs.f_bavail * unit / kMiB);
    }
}

// ---- Network ---------------------------------------------------------------------------------

struct Interface {
    std::string ipv4;
    std::string ipv6_global;
    std::string ipv6_link_local;
    std::string mac;
};

std::string address_text(int family, const void* address) {
    char text[INET6_ADDRSTRLEN] = {};
    return inet_ntop(family, address, text, sizeof text) ? text : "";
}

std::string mac_text(const sockaddr_ll& link) {
    if (link.sll_halen != 6) return "";
    bool all_zero = true;
    std::string out;
    for (int i = 0; i < 6; ++i) {
        char part[4];
        std::snprintf(part, sizeof part, i == 0 ? "%02x" : ":%02x", link.sll_addr[i]);
        out += part;
        all_zero = all_zero && link.sll_addr[i] == 0;
    }
    return all_zero ? "" : out;
}

// getifaddrs lists an interface once per address; the first of each kind wins, which for IPv4
// is the primary address.
void note_address(const ifaddrs& entry, Interface& interface) {
    const int family = entry.ifa_addr->sa_family;
    auto set_once = [](std::string& slot, std::string text) {
        if (slot.empty()) slot = std::move(text);
    };
    if (family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(entry.ifa_addr);
        set_once(interface.ipv4, address_text(AF_INET, &in->sin_addr));
    } else if (family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(entry.ifa_addr);
        const bool link_local = IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr);
        set_once(link_local ? interface.ipv6_link_local : interface.ipv6_global,
                 address_text(AF_INET6, &in6->sin6_addr));
    } else if (family == AF_PACKET) {
        set_once(interface.mac, mac_text(*reinterpret_cast<const sockaddr_ll*>(entry.ifa_addr)));
    }
}

std::map<std::string, Interface> list_interfaces() {
    std::map<std::string, Interface> interfaces;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return interfaces;
    for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
        if (!entry->ifa_name || !entry->ifa_addr) continue;
        if ((entry->ifa_flags & IFF_LOOPBACK) || !(entry->ifa_flags & IFF_UP)) continue;
        note_address(*entry, interfaces[entry->ifa_name]);
    }
    freeifaddrs(list);
    return interfaces;
}

void read_interfaces(Inventory& inventory) {
    std::set<std::string> seen;
    for (const auto& [name, interface] : list_interfaces()) {
        const std::string part = key_part(name);
        const std::string prefix = "net." + part + ".";
        // Two names that differ only outside [a-z0-9_] would share keys: the first (sorted) wins.
        if (part.empty() || !is_fact_key(prefix + "ipv4") || !seen.insert(part).second) continue;
        set_text(inventory, prefix + "ipv4", interface.ipv4);
        set_text(inventory, prefix + "ipv6",
                 interface.ipv6_global.empty() ? interface.ipv6_link_local : interface.ipv6_global);
        set_text(inventory, prefix + "mac", interface.mac);
    }
}

// ---- Software --------------------------------------------------------------------------------

// The Status field is "WANT ERROR STATE": installed means state "installed" with error flag
// "ok", whatever is wanted (install, hold, deinstall, purge).
bool is_installed(const std::string& status) {
    std::istringstream words(status);
    std::string want, error, state, extra;
    return (words >> want >> error >> state) && !(words >> extra) && error == "ok" &&
           state == "installed";
}

// Adds while keeping at most `limit` entries, the first by name: memory stays bounded
// whatever the size of the file.
void add_capped(std::map<std::string, std::string>& software, const std::string& name,
                const std::string& version, std::size_t limit) {
    if (!software.emplace(name, version).second) return;  // another architecture: same version
    if (software.size() > limit) software.erase(std::prev(software.end()));
}

// One RFC 822-like paragraph of /var/lib/dpkg/status, as far as the inventory cares.
struct DpkgParagraph {
    std::string package;
    std::string version;
    std::string status;

    void field(const std::string& line) {
        std::string key, value;
        if (!split_field(line, key, value)) return;  // malformed: skipped
        for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (key == "package")
            package = value;
        else if (key == "version")
            version = value;
        else if (key == "status")
            status = value;
    }
};

std::map<std::string, std::string> read_dpkg_status(const InventorySources& sources,
                                                    std::size_t limit) {
    std::map<std::string, std::string> software;
    if (limit == 0) return software;
    DpkgParagraph paragraph;
    const auto finish = [&] {
        if (!paragraph.package.empty() && is_installed(paragraph.status) &&
            is_reportable_name(paragraph.package) && is_reportable_name(paragraph.version))
            add_capped(software, paragraph.package, paragraph.version, limit);
        paragraph = DpkgParagraph{};
    };
    for_each_line(under_root(sources, "/var/lib/dpkg/status"), [&](const std::string& line) {
        if (trim(line).empty())
            finish();
        else if (line[0] != ' ' && line[0] != '\t')
            paragraph.field(line);
        // else a continuation line (Description, Conffiles): nothing the inventory reports
    });
    finish();  // the last paragraph needs no blank line after it
    return software;
}

void read_software(const InventorySources& sources,
                   const std::map<std::string, std::string>& ferry_packages, Inventory& inventory) {
    std::map<std::string, std::string> ferry;
    for (const auto& [name, version] : ferry_packages) {
        const std::string full_name = kFerrySoftwarePrefix + name;
        if (is_reportable_name(full_name) && is_reportable_name(version))
            add_capped(ferry, full_name, version, kMaxInventorySoftware);
    }
    inventory.software = read_dpkg_status(sources, kMaxInventorySoftware - ferry.size());
    for (auto& [name, version] : ferry) inventory.software[name] = std::move(version);
}

// ---- JSON ------------------------------------------------------------------------------------

void write_string(std::ostream& out, const std::string& text) {
    Poco::JSON::Stringifier::formatString(text, out);
}

// A double keeps a fraction or an exponent so that it reads back as a double.
void write_value(std::ostream& out, const std::string& key, const InventoryValue& value) {
    if (const auto* text = std::get_if<std::string>(&value)) return write_string(out, *text);
    if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        out << std::to_string(*integer);  // not through the stream's locale
        return;
    }
    const double number = std::get<double>(value);
    if (!std::isfinite(number))
        throw Error(ErrorCode::InvalidInput,
                    "inventory: fact \"" + key + "\": not a finite number");
    char digits[64];
    const auto result = std::to_chars(digits, digits + sizeof digits, number);
    const std::string shortest(digits, result.ptr);
    out << shortest;
    if (shortest.find_first_of(".e") == std::string::npos) out << ".0";
}

// {"KEY":VALUE,…}; `indent` non-empty puts each entry on its own line below that indentation.
void write_facts(std::ostream& out, const std::map<std::string, InventoryValue>& facts,
                 const std::string& indent = "") {
    out << '{';
    const char* separator = "";
    for (const auto& [key, value] : facts) {
        out << separator;
        if (!indent.empty()) out << '\n' << indent << "  ";
        write_string(out, key);
        out << (indent.empty() ? ":" : ": ");
        write_value(out, key, value);
        separator = ",";
    }
    if (!indent.empty() && !facts.empty()) out << '\n' << indent;
    out << '}';
}

// [{"name":…,"version":…},…] as the site takes packages; no "version" when there is none.
void write_software_list(std::ostream& out, const std::map<std::string, std::string>& software) {
    out << '[';
    const char* separator = "";
    for (const auto& [name, version] : software) {
        out << separator << "{\"name\":";
        write_string(out, name);
        if (!version.empty()) {
            out << ",\"version\":";
            write_string(out, version);
        }
        out << '}';
        separator = ",";
    }
    out << ']';
}

void write_names(std::ostream& out, const std::vector<std::string>& names) {
    out << '[';
    const char* separator = "";
    for (const auto& name : names) {
        out << separator;
        write_string(out, name);
        separator = ",";
    }
    out << ']';
}

void check_sequence(std::int64_t seq, std::int64_t base) {
    if (seq < 1) throw Error(ErrorCode::InvalidInput, "inventory report: seq must be >= 1");
    if (base < 0) throw Error(ErrorCode::InvalidInput, "inventory report: base must be >= 0");
}

InventoryValue read_fact(const json::FieldReader& in, const std::string& key,
                         const Poco::Dynamic::Var& value) {
    if (value.isString()) return value.extract<std::string>();
    if (value.isBoolean() || !value.isNumeric())
        throw Error(ErrorCode::InvalidInput,
                    in.where("facts." + key.substr(0, 64)) + ": must be a string or a number");
    if (!value.isInteger()) return value.convert<double>();
    try {
        return value.convert<std::int64_t>();
    } catch (const Poco::Exception&) {
        throw Error(ErrorCode::InvalidInput,
                    in.where("facts." + key.substr(0, 64)) + ": integer out of range");
    }
}

}  // namespace

Inventory collect_inventory(const InventorySources& sources,
                            const std::map<std::string, std::string>& ferry_packages) {
    Inventory inventory;
    read_os_release(sources, inventory);
    if (sources.read_uname) read_uname(inventory);
    read_cpuinfo(sources, inventory);
    read_meminfo(sources, inventory);
    read_dmi(sources, inventory);
    read_disks(sources, inventory);
    if (sources.read_interfaces) read_interfaces(inventory);
    set_text(inventory, "agent.version", sources.agent_version);
    // The site refuses a report with more facts than its limit: the last in key order go.
    while (inventory.facts.size() > kMaxInventoryFacts)
        inventory.facts.erase(std::prev(inventory.facts.end()));
    read_software(sources, ferry_packages, inventory);
    return inventory;
}

bool InventoryChange::empty() const {
    return facts.empty() && removed_facts.empty() && software.empty() && removed_software.empty();
}

namespace {
// Entries of `after` that are new or differ from `before` go to `changed`; keys of `before`
// that `after` lacks go to `removed` (sorted, as the maps are).
template <typename Value>
void diff_maps(const std::map<std::string, Value>& before,
               const std::map<std::string, Value>& after, std::map<std::string, Value>& changed,
               std::vector<std::string>& removed) {
    for (const auto& [key, value] : after) {
        const auto old = before.find(key);
        if (old == before.end() || !(old->second == value)) changed.emplace(key, value);
    }
    for (const auto& [key, value] : before) {
        if (after.find(key) == after.end()) removed.push_back(key);
    }
}
}  // namespace

InventoryChange diff_inventory(const Inventory& before, const Inventory& after) {
    InventoryChange change;
    diff_maps(before.facts, after.facts, change.facts, change.removed_facts);
    diff_maps(before.software, after.software, change.software, change.removed_software);
    return change;
}

std::string inventory_to_json(const Inventory& inventory) {
    std::ostringstream out;
    out << "{\n  \"facts\": ";
    write_facts(out, inventory.facts, "  ");
    out << ",\n  \"software\": {";
    const char* separator = "";
    for (const auto& [name, version] : inventory.software) {
        out << separator << "\n    ";
        write_string(out, name);
        out << ": ";
        write_string(out, version);
        separator = ",";
    }
    out << (inventory.software.empty() ? "}" : "\n  }") << "\n}\n";
    return out.str();
}

Inventory inventory_from_json(const std::string& text) {
    // Every fact and package is one scalar; the containers and some slack on top.
    constexpr std::size_t kBudget = kMaxInventoryFacts + kMaxInventorySoftware + 64;
    json::FieldReader in(json::parse_object(text, "inventory", kBudget), "inventory");
    in.allow_only({"facts", "software"});
    Inventory inventory;
    for (const auto& [key, value] : *in.object("facts", true)) {
        if (!is_fact_key(key))
            throw Error(ErrorCode::InvalidInput,
                        in.where("facts") + ": \"" + key.substr(0, 64) + "\" is not a fact name");
        inventory.facts.emplace(key, read_fact(in, key, value));
    }
    for (const auto& [name, version] : *in.object("software", true)) {
        if (!version.isString())
            throw Error(ErrorCode::InvalidInput,
                        in.where("software." + name.substr(0, 256)) + ": must be a string");
        inventory.software.emplace(name, version.extract<std::string>());
    }
    return inventory;
}

std::string full_report_json(const Inventory& inventory, std::int64_t seq) {
    check_sequence(seq, 0);
    std::ostringstream out;
    out << "{\"full\":true,\"seq\":" << std::to_string(seq) << ",\"facts\":";
    write_facts(out, inventory.facts);
    out << ",\"software\":";
    write_software_list(out, inventory.software);
    out << '}';
    return out.str();
}

std::string change_report_json(const InventoryChange& change, std::int64_t seq, std::int64_t base) {
    check_sequence(seq, base);
    std::ostringstream out;
    out << "{\"full\":false,\"seq\":" << std::to_string(seq) << ",\"base\":" << std::to_string(base)
        << ",\"facts\":";
    write_facts(out, change.facts);
    out << ",\"software\":";
    write_software_list(out, change.software);
    out << ",\"removed_facts\":";
    write_names(out, change.removed_facts);
    out << ",\"removed_software\":";
    write_names(out, change.removed_software);
    out << '}';
    return out.str();
}

}  // namespace ferry::agent
