#include "ferry/manifest.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "archive_path.h"
#include "canonical_json.h"
#include "ferry/encoding.h"
#include "ferry/error.h"
#include "ferry/json.h"

namespace ferry {
namespace {

constexpr int kMaxTimeoutSeconds = 24 * 3600;

const std::vector<std::string> kSourceFields = {
    "format", "name",         "version",      "description", "publisher", "release",
    "rfcs",   "requirements", "dependencies", "timeouts",    "reboot"};

bool is_release_reference(const std::string& text);

Error bad(const std::string& where, const std::string& what) {
    return Error(ErrorCode::InvalidInput, where + ": " + what);
}

// Modes are written as four octal digits ("0644") so that a reader of ferry.json sees them
// as ls and chmod show them.
std::uint32_t parse_mode(const std::string& text, const std::string& where) {
    if (text.size() != 4 || text.find_first_not_of("01234567") != std::string::npos) {
        throw bad(where, "must be four octal digits, such as \"0644\"");
    }
    return static_cast<std::uint32_t>(std::stoul(text, nullptr, 8));
}

std::string format_mode(std::uint32_t mode) {
    const char digits[] = {'0', static_cast<char>('0' + ((mode >> 6) & 7)),
                           static_cast<char>('0' + ((mode >> 3) & 7)),
                           static_cast<char>('0' + (mode & 7)), 0};
    return (mode & 07000) != 0
               ? std::string(1, static_cast<char>('0' + ((mode >> 9) & 7))) + (digits + 1)
               : digits;
}

EntryType parse_entry_type(const std::string& text, const std::string& where) {
    if (text == "file") return EntryType::File;
    if (text == "dir") return EntryType::Directory;
    if (text == "symlink") return EntryType::Symlink;
    throw bad(where, "must be \"file\", \"dir\" or \"symlink\"");
}

// Fields shared by the source and the package manifest.
void read_common_fields(const json::FieldReader& in, Manifest& m) {
    m.format = static_cast<int>(
        in.integer("format", false, Manifest::kFormat, Manifest::kFormat, Manifest::kFormat));
    m.name = in.string("name", true, 64);
    if (!is_valid_package_name(m.name)) {
        throw bad(in.where("name"),
                  "must be 1-64 characters of a-z, 0-9, '.', '+', '_' or '-', starting with a "
                  "letter or digit");
    }
    m.version = in.string("version", true, 64);
    if (!is_valid_version(m.version)) {
        throw bad(in.where("version"),
                  "must start with a digit and use only 0-9, A-Z, a-z, '.', '+', '~' or '-'");
    }
    m.description = in.string("description", false, 4096);
    m.publisher = in.string("publisher", true, 256);
    m.release = in.string("release", false, 64);
    if (!m.release.empty() && !is_release_reference(m.release)) {
        throw bad(in.where("release"), "must look like REL-YYYY-NNNN");
    }
    m.requirements = in.string("requirements", false, 4096);
    m.reboot = in.boolean("reboot", false, false);

    if (auto rfcs = in.array("rfcs", false)) {
        for (std::size_t i = 0; i < rfcs->size(); ++i) {
            const auto value = rfcs->get(static_cast<unsigned>(i));
            const std::string where = in.where("rfcs") + "[" + std::to_string(i) + "]";
            if (!value.isString()) throw bad(where, "must be a string");
            const std::string rfc = value.extract<std::string>();
            if (rfc.empty() || rfc.size() > 64 || !json::is_printable(rfc)) {
                throw bad(where, "must be 1-64 printable characters");
            }
            m.rfcs.push_back(rfc);
        }
    }
    if (auto deps = in.array("dependencies", false)) {
        std::set<std::string> seen;
        for (std::size_t i = 0; i < deps->size(); ++i) {
            const std::string prefix = "dependencies[" + std::to_string(i) + "].";
            auto object = deps->getObject(static_cast<unsigned>(i));
            if (!object)
                throw bad(in.where("dependencies") + "[" + std::to_string(i) + "]",
                          "must be an object");
            json::FieldReader dep(object, in.source(), prefix);
            dep.allow_only({"name", "min_version"});
            Dependency d;
            d.name = dep.string("name", true, 64);
            if (!is_valid_package_name(d.name))
                throw bad(dep.where("name"), "is not a valid package name");
            if (d.name == m.name) throw bad(dep.where("name"), "a package cannot depend on itself");
            if (!seen.insert(d.name).second) throw bad(dep.where("name"), "is listed twice");
            d.min_version = dep.string("min_version", false, 64);
            if (!d.min_version.empty() && !is_valid_version(d.min_version)) {
                throw bad(dep.where("min_version"), "is not a valid version");
            }
            m.dependencies.push_back(d);
        }
    }
    if (auto timeouts = in.object("timeouts", false)) {
        json::FieldReader t(timeouts, in.source(), "timeouts.");
        t.allow_only(known_hooks());
        for (const auto& hook : known_hooks()) {
            if (t.has(hook))
                m.timeouts[hook] = static_cast<int>(t.integer(hook, true, 1, kMaxTimeoutSeconds));
        }
    }
}

void read_entries(const json::FieldReader& in, Manifest& m, std::size_t max_entries) {
    auto files = in.array("files", true);
    if (files->size() > max_entries) {
        throw Error(ErrorCode::LimitExceeded,
                    in.where("files") + ": lists " + std::to_string(files->size()) +
                        " entries, more than the limit of " + std::to_string(max_entries));
    }
    for (std::size_t i = 0; i < files->size(); ++i) {
        const std::string prefix = "files[" + std::to_string(i) + "].";
        auto object = files->getObject(static_cast<unsigned>(i));
        if (!object)
            throw bad(in.where("files") + "[" + std::to_string(i) + "]", "must be an object");
        json::FieldReader f(object, in.source(), prefix);
        f.allow_only({"path", "type", "mode", "size", "blake2b", "target"});
        ManifestEntry e;
        e.path = f.string("path", true, 4096);
        e.type = parse_entry_type(f.string("type", true, 16), f.where("type"));
        e.mode = parse_mode(f.string("mode", true, 8), f.where("mode"));
        if (e.type == EntryType::File) {
            e.size = static_cast<std::uint64_t>(f.integer("size", true, 0, INT64_MAX));
            e.blake2b = f.string("blake2b", true, 64);
        } else if (e.type == EntryType::Symlink) {
            e.target = f.string("target", true, 1024);
        }
        m.files.push_back(e);
    }
    if (auto scripts = in.array("scripts", false)) {
        for (std::size_t i = 0; i < scripts->size(); ++i) {
            const auto value = scripts->get(static_cast<unsigned>(i));
            if (!value.isString())
                throw bad(in.where("scripts") + "[" + std::to_string(i) + "]", "must be a string");
            m.scripts.push_back(value.extract<std::string>());
        }
    }
}

const char* entry_type_json(EntryType type) {
    switch (type) {
        case EntryType::File:
            return "file";
        case EntryType::Directory:
            return "dir";
        case EntryType::Symlink:
            return "symlink";
    }
    return "file";
}

}  // namespace

const char* entry_type_name(EntryType type) {
    switch (type) {
        case EntryType::File:
            return "regular file";
        case EntryType::Directory:
            return "directory";
        case EntryType::Symlink:
            return "symbolic link";
    }
    return "entry";
}

const std::vector<std::string>& known_hooks() {
    static const std::vector<std::string> hooks = {"check", "install", "uninstall"};
    return hooks;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

// [first][rest]{0,63}
template <typename First, typename Rest>
bool matches(const std::string& text, First first, Rest rest) {
    if (text.empty() || text.size() > 64 || !first(text[0])) return false;
    return std::all_of(text.begin() + 1, text.end(), rest);
}

// REL-YYYY-NNNN (four or more digits of sequence number).
bool is_release_reference(const std::string& text) {
    if (text.size() < 13 || text.size() > 64 || text.compare(0, 4, "REL-") != 0 || text[8] != '-')
        return false;
    const auto digits = [&](std::size_t from, std::size_t to) {
        return std::all_of(text.begin() + static_cast<long>(from),
                           text.begin() + static_cast<long>(to), is_digit);
    };
    return digits(4, 8) && digits(9, text.size());
}

}  // namespace

bool is_valid_package_name(const std::string& name) {
    return matches(name, is_lower_alnum, [](char c) {
        return is_lower_alnum(c) || c == '.' || c == '+' || c == '_' || c == '-';
    });
}

bool is_valid_version(const std::string& version) {
    return matches(version, is_digit, [](char c) {
        return is_alnum(c) || c == '.' || c == '+' || c == '~' || c == '-';
    });
}

std::string check_entry_path(const std::string& path, std::size_t max_bytes,
                             std::size_t max_depth) {
    if (path.empty()) return "empty path";
    if (path.size() > max_bytes) return "path longer than " + std::to_string(max_bytes) + " bytes";
    if (path.front() == '/') return "absolute path";
    if (!json::is_printable(path)) return "path contains control characters";
    const auto parts = split_path(path);
    if (parts.size() > max_depth)
        return "path nested deeper than " + std::to_string(max_depth) + " levels";
    for (const auto& part : parts) {
        if (part.empty()) return "path has an empty component";
        if (part == "." || part == "..") return "path has a \"" + part + "\" component";
        if (part.size() > 255) return "path component longer than 255 bytes";
    }
    if (parts[0] != "files" && parts[0] != "scripts") return "path is outside files/ and scripts/";
    if (parts.size() == 1) return "\"" + parts[0] + "\" itself is not an entry path";
    if (parts[0] == "scripts" && parts.size() == 2 &&
        std::find(known_hooks().begin(), known_hooks().end(), parts[1]) == known_hooks().end()) {
        return "scripts/ holds only install, uninstall and check";
    }
    if (parts[0] == "scripts" && parts.size() > 2) return "scripts/ has no subdirectories";
    return {};
}

std::string check_symlink_target(const std::string& target) {
    if (target.empty()) return "empty link target";
    if (target.front() == '/') return "link target is absolute";
    if (target.size() > 1024) return "link target longer than 1024 bytes";
    if (!json::is_printable(target)) return "link target contains control characters";
    for (const auto& part : split_path(target)) {
        if (part == "..") return "link target has a \"..\" component";
    }
    return {};
}

Manifest Manifest::parse_source(const std::string& text, const std::string& source) {
    json::FieldReader in(json::parse_object(text, source), source);
    if (in.has("files")) throw bad(in.where("files"), "is computed by ferry-pack build; remove it");
    if (in.has("scripts")) {
        throw bad(in.where("scripts"), "is computed by ferry-pack build from scripts/; remove it");
    }
    in.allow_only(kSourceFields);
    Manifest m;
    read_common_fields(in, m);
    return m;
}

Manifest Manifest::parse_package(const std::string& text, const std::string& source,
                                 std::size_t max_entries) {
    json::FieldReader in(json::parse_object(text, source, manifest_value_budget(max_entries)),
                         source);
    std::vector<std::string> allowed = kSourceFields;
    allowed.push_back("files");
    allowed.push_back("scripts");
    in.allow_only(allowed);
    Manifest m;
    read_common_fields(in, m);
    read_entries(in, m, max_entries);
    m.validate_package(source);
    return m;
}

void Manifest::validate_package(const std::string& source) const {
    std::set<std::string> dirs;
    std::set<std::string> paths;
    std::set<std::string> hooks_present;
    const std::string where_files = source + ": field \"files\"";
    for (std::size_t i = 0; i < files.size(); ++i) {
        const ManifestEntry& e = files[i];
        const std::string where =
            source + ": field \"files[" + std::to_string(i) + "]\" (" + e.path + ")";
        // The top-level "files" and "scripts" are the only one-component paths, and only ever
        // directories: a link or file there would let one hide behind the other.
        const bool top = e.path == "files" || e.path == "scripts";
        if (top && e.type != EntryType::Directory) throw bad(where, "must be a directory");
        const std::string reason = top ? std::string() : check_entry_path(e.path);
        if (!reason.empty()) throw bad(where, reason);
        if (!paths.insert(e.path).second) throw bad(where, "path listed twice");
        if (i > 0 && !(files[i - 1].path < e.path))
            throw bad(where, "entries must be sorted by path");
        const std::string parent = parent_of(e.path);
        if (!parent.empty() && dirs.count(parent) == 0) {
            throw bad(where, "its parent directory \"" + parent + "\" is not listed before it");
        }
        switch (e.type) {
            case EntryType::File:
                if (e.mode != 0644 && e.mode != 0755)
                    throw bad(where, "a file's mode must be 0644 or 0755");
                if (!is_object_id(e.blake2b))
                    throw bad(where, "blake2b must be 64 lowercase hex digits");
                if (parent_of(e.path) == "scripts") {
                    if (e.mode != 0755) throw bad(where, "scripts must be executable (mode 0755)");
                    hooks_present.insert(e.path.substr(8));
                }
                break;
            case EntryType::Directory:
                if (e.mode != 0755) throw bad(where, "a directory's mode must be 0755");
                dirs.insert(e.path);
                break;
            case EntryType::Symlink: {
                if (e.mode != 0777) throw bad(where, "a symlink's mode must be 0777");
                const std::string why = check_symlink_target(e.target);
                if (!why.empty()) throw bad(where, why);
                if (parent_of(e.path) == "scripts")
                    throw bad(where, "scripts must be regular files");
                break;
            }
        }
    }
    std::set<std::string> declared(scripts.begin(), scripts.end());
    if (declared != hooks_present) {
        throw bad(source + ": field \"scripts\"",
                  "does not match the scripts/ entries in \"files\"");
    }
}

int Manifest::timeout_for(const std::string& hook) const {
    const auto it = timeouts.find(hook);
    return it == timeouts.end() ? kDefaultHookTimeoutSeconds : it->second;
}

std::uint64_t Manifest::total_file_bytes() const {
    std::uint64_t total = 0;
    for (const auto& e : files) {
        total = e.size > UINT64_MAX - total ? UINT64_MAX : total + e.size;
    }
    return total;
}

namespace {

void write_entry(CanonicalJson& json, const ManifestEntry& e) {
    json.begin_object();
    if (e.type == EntryType::File) {
        json.key("blake2b");
        json.string(e.blake2b);
    }
    json.key("mode");
    json.string(format_mode(e.mode));
    json.key("path");
    json.string(e.path);
    if (e.type == EntryType::File) {
        json.key("size");
        json.number(e.size);
    }
    if (e.type == EntryType::Symlink) {
        json.key("target");
        json.string(e.target);
    }
    json.key("type");
    json.string(entry_type_json(e.type));
    json.end_object();
}

}  // namespace

std::string Manifest::to_json() const {
    std::string out;
    out.reserve(512 + files.size() * 160);
    CanonicalJson json(out);
    json.begin_object();  // keys in byte order, as canonical JSON requires
    if (!dependencies.empty()) {
        json.key("dependencies");
        json.begin_array();
        for (const auto& d : dependencies) {
            json.begin_object();
            if (!d.min_version.empty()) {
                json.key("min_version");
                json.string(d.min_version);
            }
            json.key("name");
            json.string(d.name);
            json.end_object();
        }
        json.end_array();
    }
    if (!description.empty()) {
        json.key("description");
        json.string(description);
    }
    json.key("files");
    json.begin_array();
    for (const auto& e : files) write_entry(json, e);
    json.end_array();
    json.key("format");
    json.number(static_cast<std::uint64_t>(format));
    json.key("name");
    json.string(name);
    json.key("publisher");
    json.string(publisher);
    json.key("reboot");
    json.boolean(reboot);
    if (!release.empty()) {
        json.key("release");
        json.string(release);
    }
    if (!requirements.empty()) {
        json.key("requirements");
        json.string(requirements);
    }
    if (!rfcs.empty()) {
        json.key("rfcs");
        json.begin_array();
        for (const auto& r : rfcs) json.string(r);
        json.end_array();
    }
    json.key("scripts");
    json.begin_array();
    for (const auto& hook : scripts) json.string(hook);
    json.end_array();
    if (!timeouts.empty()) {
        json.key("timeouts");
        json.begin_object();
        for (const auto& [hook, seconds] : timeouts) {
            json.key(hook.c_str());
            json.number(static_cast<std::uint64_t>(seconds));
        }
        json.end_object();
    }
    json.key("version");
    json.string(version);
    json.end_object();
    out += '\n';
    return out;
}

}  // namespace ferry
