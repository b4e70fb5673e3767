#include <Poco/JSON/Object.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "ferry/command_line.h"
#include "ferry/json.h"
#include "ferry/package_reader.h"
#include "ferry/package_signature.h"

namespace ferry::pack {
namespace {

std::string join(const std::vector<std::string>& items, const std::string& separator) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
    return out;
}

std::string octal(std::uint32_t mode) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "%04o", mode);
    return buffer;
}

void print_text(const Manifest& m, const FileDigest& digest) {
    std::vector<std::string> deps;
    for (const auto& d : m.dependencies)
        deps.push_back(d.name + (d.min_version.empty() ? "" : " >= " + d.min_version));
    std::vector<std::string> timeouts;
    for (const auto& hook : m.scripts)
        timeouts.push_back(hook + " " + std::to_string(m.timeout_for(hook)) + "s");
    std::uint64_t file_count = 0;
    for (const auto& e : m.files) file_count += e.type == EntryType::File ? 1 : 0;

    std::cout << m.name << " " << m.version << "\n"
              << "  publisher     " << m.publisher << "\n"
              << "  description   " << m.description << "\n"
              << "  release       " << (m.release.empty() ? "-" : m.release) << "\n"
              << "  rfcs          " << (m.rfcs.empty() ? "-" : join(m.rfcs, ", ")) << "\n"
              << "  requirements  " << (m.requirements.empty() ? "-" : m.requirements) << "\n"
              << "  dependencies  " << (deps.empty() ? "-" : join(deps, ", ")) << "\n"
              << "  scripts       " << (timeouts.empty() ? "-" : join(timeouts, ", ")) << "\n"
              << "  reboot        " << (m.reboot ? "yes" : "no") << "\n"
              << "  object id     " << digest.object_id << "\n"
              << "  package size  " << digest.size << " bytes\n"
              << "  payload       " << file_count << " files, " << m.total_file_bytes()
              << " bytes\n"
              << "entries (listed by the manifest; run ferry-pack verify to check them):\n";
    for (const auto& e : m.files) {
        std::cout << "  " << octal(e.mode) << " ";
        switch (e.type) {
            case EntryType::File: {
                char size[32];
                std::snprintf(size, sizeof size, "%12llu", static_cast<unsigned long long>(e.size));
                std::cout << size << " " << e.path << "  " << e.blake2b.substr(0, 16) << "\n";
                break;
            }
            case EntryType::Directory:
                std::cout << "         dir " << e.path << "/\n";
                break;
            case EntryType::Symlink:
                std::cout << "        link " << e.path << " -> " << e.target << "\n";
                break;
        }
    }
}

void print_json(const PackageReader& reader, const FileDigest& digest) {
    Poco::JSON::Object out;
    out.set("object_id", digest.object_id);
    out.set("size", static_cast<Poco::UInt64>(digest.size));
    out.set("manifest", json::parse_object(reader.manifest_json(), "ferry.json",
                                           manifest_value_budget(kDefaultMaxEntries)));
    out.stringify(std::cout, 2);
    std::cout << "\n";
}

}  // namespace

int run_inspect(int argc, char** argv, int first) {
    const CommandLine args(argc, argv, first, {{"--json", "", false}}, 1);
    if (args.help()) return print_help("inspect");
    const std::string package = args.positional()[0];
    const FileDigest digest = digest_file(package);
    PackageReader reader(package);
    if (args.flag("--json")) {
        print_json(reader, digest);
    } else {
        print_text(reader.manifest(), digest);
    }
    return 0;
}

}  // namespace ferry::pack
