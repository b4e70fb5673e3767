#define BOOST_TEST_MODULE inventory
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "client.h"
#include "client_api.h"
#include "expect_error.h"
#include "inventory.h"
#include "temp_dir.h"

using namespace ferry;
using namespace ferry::agent;
using ferry::test::expect_error;
using ferry::test::write_file;

namespace {

// Facts one a line, "key=value", text quoted and numbers bare (a double with a trailing 'd'),
// so that a failing comparison shows what differs.
std::string facts_text(const std::map<std::string, InventoryValue>& facts) {
    std::string out;
    for (const auto& [key, value] : facts) {
        out += key + "=";
        if (const auto* text = std::get_if<std::string>(&value))
            out += "\"" + *text + "\"";
        else if (const auto* integer = std::get_if<std::int64_t>(&value))
            out += std::to_string(*integer);
        else
            out += std::to_string(std::get<double>(value)) + "d";
        out += "\n";
    }
    return out;
}

std::string software_text(const std::map<std::string, std::string>& software) {
    std::string out;
    for (const auto& [name, version] : software) out += name + "=" + version + "\n";
    return out;
}

const char* const kCpuinfo =
    "processor\t: 0\n"
    "vendor_id\t: GenuineIntel\n"
    "model name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\n"
    "flags\t\t: fpu vme de pse\n"
    "\n"
    "processor\t: 1\n"
    "vendor_id\t: GenuineIntel\n"
    "model name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\n"
    "\n";

const char* const kMeminfo =
    "MemTotal:       16314420 kB\n"
    "MemFree:         1234567 kB\n";

const char* const kOsRelease =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
    "NAME=\"Debian GNU/Linux\"\n"
    "VERSION_ID=\"12\"\n"
    "# a comment\n"
    "ID=debian\n";

// Installed, held, deinstalled, half-installed, without a version, without a name, installed for
// two architectures, with continuation lines and a malformed line; the last paragraph has no
// trailing newline.
const char* const kDpkgStatus =
    "Package: bash\n"
    "Status: install ok installed\n"
    "Priority: required\n"
    "Version: 5.2.15-2+b2\n"
    "Description: GNU Bourne Again SHell\n"
    " Bash is an sh-compatible command language interpreter.\n"
    " .\n"
    "Conffiles:\n"
    " /etc/bash.bashrc 89269e1298235f1b12b4c16e4065ad0d\n"
    "\n"
    "Package: nginx\n"
    "Status: hold ok installed\n"
    "Version: 1.22.1-9\n"
    "\n"
    "Package: oldlib\n"
    "Status: deinstall ok config-files\n"
    "Version: 1.0\n"
    "\n"
    "Package: broken\n"
    "Status: install reinstreq half-installed\n"
    "Version: 2.0\n"
    "\n"
    "Package: noversion\n"
    "Status: install ok installed\n"
    "\n"
    "Status: install ok installed\n"
    "Version: 9.9\n"
    "\n"
    "this line has no colon\n"
    "Package: libc6\n"
    "Status: install ok installed\n"
    "Architecture: amd64\n"
    "Version: 2.36-9\n"
    "\n"
    "\n"
    "package: libc6\n"
    "status: install ok installed\n"
    "architecture: i386\n"
    "version: 2.36-9\n"
    "\n"
    "Package: zlib1g\n"
    "Version: 1:1.2.13.dfsg-1\n"
    "Status: install ok installed";

struct FakeSystem {
    test::TempDir root;
    InventorySources sources;

    FakeSystem() {
        sources.system_root = root.path() + "/";
        sources.disk_mounts = {};
        sources.read_uname = false;
        sources.read_interfaces = false;
    }

    void write(const std::string& relative, const std::string& content) {
        write_file(root / relative, content);
    }

    void write_all() {
        write("proc/cpuinfo", kCpuinfo);
        write("proc/meminfo", kMeminfo);
        write("etc/os-release", kOsRelease);
        write("var/lib/dpkg/status", kDpkgStatus);
        write("sys/class/dmi/id/sys_vendor", "LENOVO\n");
        write("sys/class/dmi/id/product_name", "20XW0055GE\n");
    }
};

Inventory sample_inventory() {
    Inventory inventory;
    inventory.facts = {{"os.name", std::string("Debian")},
                       {"hw.memory_mb", std::int64_t{8192}},
                       {"hw.load", 0.5},
                       {"site.name", std::string("Zürich \"lab\" \\ 2")}};
    inventory.software = {{"bash", "5.2"}, {"ferry:hello", "1.1"}, {"noversion", ""}};
    return inventory;
}

Poco::JSON::Object::Ptr parse(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

std::vector<std::string> keys_of(const Poco::JSON::Object::Ptr& object) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : *object) keys.push_back(key);
    return keys;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(FactsAndSoftwareComeFromTheFilesOfTheSystem, FakeSystem) {
    write_all();
    const Inventory inventory = collect_inventory(sources, {{"hello", "1.1"}});
    BOOST_TEST(facts_text(inventory.facts) ==
               "agent.version=\"0.1.0\"\n"
               "hw.cores=2\n"
               "hw.cpu.cores=2\n"
               "hw.cpu.model=\"Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\"\n"
               "hw.memory_mb=15932\n"
               "hw.product=\"20XW0055GE\"\n"
               "hw.vendor=\"LENOVO\"\n"
               "os.id=\"debian\"\n"
               "os.name=\"Debian\"\n"
               "os.pretty_name=\"Debian GNU/Linux 12 (bookworm)\"\n"
               "os.version=\"12\"\n");
    BOOST_TEST(software_text(inventory.software) ==
               "bash=5.2.15-2+b2\n"
               "ferry:hello=1.1\n"
               "libc6=2.36-9\n"
               "nginx=1.22.1-9\n"
               "noversion=\n"
               "zlib1g=1:1.2.13.dfsg-1\n");
    for (const auto& [key, value] : inventory.facts)
        BOOST_TEST(server::is_fact_key(key), key << " is not a fact name for the site");
}

BOOST_FIXTURE_TEST_CASE(MissingSourcesLeaveTheirFactsOutWithoutAnError, FakeSystem) {
    sources.agent_version = "";
    const Inventory nothing = collect_inventory(sources, {});
    BOOST_TEST(nothing.facts.empty());
    BOOST_TEST(nothing.software.empty());

    sources.agent_version = "0.1.0";
    sources.disk_mounts = {root / "no-such-mount"};
    write("proc/meminfo", kMeminfo);
    const Inventory some = collect_inventory(sources, {{"hello", "1.0"}});
    BOOST_TEST(facts_text(some.facts) ==
               "agent.version=\"0.1.0\"\n"
               "hw.memory_mb=15932\n");
    BOOST_TEST(software_text(some.software) == "ferry:hello=1.0\n");
}

BOOST_FIXTURE_TEST_CASE(MalformedFilesYieldWhatCanBeRead, FakeSystem) {
    write("proc/cpuinfo", std::string("\x01\x02garbage\xff\n: :\nprocessor\n") +
                              std::string(200000, 'x') + "\nmodel name : \n");
    write("proc/meminfo", "MemTotal: lots kB\nMemTotal:\n");
    // Invalid UTF-8, a control character, an unterminated quote.
    write("etc/os-release",
          "NAME='Ubu\xffntu'\nID=ubuntu\x07\nPRETTY_NAME=\"Ubuntu \\\"Noble\\\"\nVERSION_ID\n");
    // Cut off in the middle of a paragraph, after a field name.
    write("var/lib/dpkg/status",
          "Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: b\nStatus: install ok "
          "installed\nVers");
    Inventory inventory;
    BOOST_CHECK_NO_THROW(inventory = collect_inventory(sources, {}));
    BOOST_TEST(facts_text(inventory.facts) ==
               "agent.version=\"0.1.0\"\n"
               "os.id=\"ubuntu\"\n"
               "os.name=\"Ubu?ntu\"\n"
               "os.pretty_name=\"Ubuntu \"Noble\"\"\n");
    BOOST_TEST(software_text(inventory.software) == "a=1\nb=\n");
}

BOOST_FIXTURE_TEST_CASE(OsNameDropsTheLinuxSuffixOnly, FakeSystem) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"\"Debian GNU/Linux\"", "Debian"}, {"Ubuntu", "Ubuntu"},
        {"\"Fedora Linux\"", "Fedora"},     {"\"Red Hat Enterprise Linux\"", "Red Hat Enterprise"},
        {"'Linux Mint'", "Linux Mint"},     {"Linux", "Linux"},
    };
    for (const auto& [raw, expected] : cases) {
        write("etc/os-release", "NAME=" + raw + "\n");
        const auto facts = collect_inventory(sources, {}).facts;
        BOOST_TEST(facts_text(facts) == "agent.version=\"0.1.0\"\nos.name=\"" + expected + "\"\n");
    }
}

BOOST_FIXTURE_TEST_CASE(OsReleaseFallsBackToUsrLib, FakeSystem) {
    write("usr/lib/os-release", "ID=arch\nNAME=\"Arch Linux\"\n");
    const auto facts = collect_inventory(sources, {}).facts;
    BOOST_TEST(facts_text(facts) == "agent.version=\"0.1.0\"\nos.id=\"arch\"\nos.name=\"Arch\"\n");
}

BOOST_FIXTURE_TEST_CASE(LongTextIsCutAt1024BytesBetweenCharacters, FakeSystem) {
    std::string model;
    for (int i = 0; i < 600; ++i) model += "é";  // two bytes each
    write("proc/cpuinfo", "processor : 0\nmodel name : x" + model + "\n");
    const auto facts = collect_inventory(sources, {}).facts;
    const auto& text = std::get<std::string>(facts.at("hw.cpu.model"));
    BOOST_TEST(text.size() == 1023u);  // "x" and 511 whole "é"
    BOOST_TEST(text == "x" + model.substr(0, 1022));
}

BOOST_FIXTURE_TEST_CASE(DisksKeepTheirPositionInTheList, FakeSystem) {
    sources.disk_mounts = {root / "gone", root.path()};
    const auto facts = collect_inventory(sources, {}).facts;
    BOOST_TEST(facts.count("disk.0.mount") == 0u);
    BOOST_TEST(std::get<std::string>(facts.at("disk.1.mount")) == root.path());
    const auto size = std::get<std::int64_t>(facts.at("disk.1.size_mb"));
    const auto free = std::get<std::int64_t>(facts.at("disk.1.free_mb"));
    BOOST_TEST(size > 0);
    BOOST_TEST(free >= 0);
    BOOST_TEST(free <= size);
}

BOOST_FIXTURE_TEST_CASE(FactsStopAtTheSiteLimitInKeyOrder, FakeSystem) {
    sources.disk_mounts.assign(400, root.path());  // 1200 disk facts
    const auto facts = collect_inventory(sources, {}).facts;
    BOOST_TEST(facts.size() == kMaxInventoryFacts);
    BOOST_TEST(facts.count("agent.version") == 1u);
    BOOST_TEST(facts.count("disk.0.mount") == 1u);
    BOOST_TEST(facts.count("disk.99.size_mb") == 0u);  // the last in key order went
}

BOOST_FIXTURE_TEST_CASE(SoftwareStopsAtTheSiteLimitKeepingFerrysOwn, FakeSystem) {
    std::string status;
    for (std::size_t i = 0; i < kMaxInventorySoftware + 1; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "pkg%06zu", i);
        status +=
            std::string("Package: ") + name + "\nStatus: install ok installed\nVersion: 1\n\n";
    }
    write("var/lib/dpkg/status", status);
    const auto software = collect_inventory(sources, {{"hello", "1.0"}}).software;
    BOOST_TEST(software.size() == kMaxInventorySoftware);
    BOOST_TEST(software.count("ferry:hello") == 1u);
    BOOST_TEST(software.count("pkg000000") == 1u);
    BOOST_TEST(software.count("pkg049998") == 1u);
    BOOST_TEST(software.count("pkg049999") == 0u);  // the last two by name made room
    BOOST_TEST(software.count("pkg050000") == 0u);
}

BOOST_AUTO_TEST_CASE(DiffNamesWhatWasAddedChangedAndRemoved) {
    Inventory before;
    before.facts = {{"os.version", std::string("11")},
                    {"hw.memory_mb", std::int64_t{4096}},
                    {"net.eth0.ipv4", std::string("10.0.0.5")},
                    {"os.name", std::string("Debian")}};
    before.software = {{"bash", "5.1"}, {"gone", "1"}, {"same", "2"}};
    Inventory after;
    after.facts = {{"os.version", std::string("12")},
                   {"hw.memory_mb", std::int64_t{8192}},
                   {"hw.vendor", std::string("LENOVO")},
                   {"os.name", std::string("Debian")}};
    after.software = {{"bash", "5.2"}, {"new", "0.1"}, {"same", "2"}};

    const InventoryChange change = diff_inventory(before, after);
    BOOST_TEST(!change.empty());
    BOOST_TEST(facts_text(change.facts) ==
               "hw.memory_mb=8192\nhw.vendor=\"LENOVO\"\nos.version=\"12\"\n");
    BOOST_TEST(change.removed_facts == std::vector<std::string>{"net.eth0.ipv4"});
    BOOST_TEST(software_text(change.software) == "bash=5.2\nnew=0.1\n");
    BOOST_TEST(change.removed_software == std::vector<std::string>{"gone"});

    BOOST_TEST(diff_inventory(after, after).empty());
    BOOST_TEST(diff_inventory(Inventory{}, Inventory{}).empty());
    // A fact that turns from text into a number changed.
    Inventory numeric = after;
    numeric.facts["os.version"] = std::int64_t{12};
    BOOST_TEST(facts_text(diff_inventory(after, numeric).facts) == "os.version=12\n");
}

BOOST_AUTO_TEST_CASE(JsonRoundTripIsExactAndStable) {
    Inventory inventory = sample_inventory();
    inventory.facts["big"] = std::int64_t{-9'000'000'000'000'000'000};
    inventory.facts["whole"] = 2.0;
    inventory.facts["tiny"] = 1e-300;
    const std::string text = inventory_to_json(inventory);
    const Inventory back = inventory_from_json(text);
    BOOST_TEST(facts_text(back.facts) == facts_text(inventory.facts));
    BOOST_TEST(software_text(back.software) == software_text(inventory.software));
    BOOST_TEST((back.facts == inventory.facts));  // the same alternatives: 2.0 stays a double
    BOOST_TEST(inventory_to_json(back) == text);
    BOOST_TEST(text ==
               "{\n"
               "  \"facts\": {\n"
               "    \"big\": -9000000000000000000,\n"
               "    \"hw.load\": 0.5,\n"
               "    \"hw.memory_mb\": 8192,\n"
               "    \"os.name\": \"Debian\",\n"
               "    \"site.name\": \"Zürich \\\"lab\\\" \\\\ 2\",\n"
               "    \"tiny\": 1e-300,\n"
               "    \"whole\": 2.0\n"
               "  },\n"
               "  \"software\": {\n"
               "    \"bash\": \"5.2\",\n"
               "    \"ferry:hello\": \"1.1\",\n"
               "    \"noversion\": \"\"\n"
               "  }\n"
               "}\n");
    BOOST_TEST(inventory_to_json(Inventory{}) == "{\n  \"facts\": {},\n  \"software\": {}\n}\n");
    BOOST_TEST(inventory_from_json(inventory_to_json(Inventory{})).facts.empty());
}

BOOST_AUTO_TEST_CASE(JsonReadingNamesTheBadField) {
    expect_error([] { inventory_from_json("not json"); }, ErrorCode::InvalidInput,
                 "inventory: invalid JSON");
    expect_error([] { inventory_from_json("[]"); }, ErrorCode::InvalidInput, "top level");
    expect_error([] { inventory_from_json(R"({"software": {}})"); }, ErrorCode::InvalidInput,
                 "field \"facts\": is required");
    expect_error([] { inventory_from_json(R"({"facts": {}, "software": {}, "x": 1})"); },
                 ErrorCode::InvalidInput, "field \"x\": unknown field");
    expect_error([] { inventory_from_json(R"({"facts": {"a": true}, "software": {}})"); },
                 ErrorCode::InvalidInput, "field \"facts.a\": must be a string or a number");
    expect_error([] { inventory_from_json(R"({"facts": {"a": [1]}, "software": {}})"); },
                 ErrorCode::InvalidInput, "field \"facts.a\": must be a string or a number");
    expect_error(
        [] { inventory_from_json(R"({"facts": {"a": 18446744073709551615}, "software": {}})"); },
        ErrorCode::InvalidInput, "field \"facts.a\": integer out of range");
    expect_error([] { inventory_from_json(R"({"facts": {"Os.Name": "x"}, "software": {}})"); },
                 ErrorCode::InvalidInput, "field \"facts\": \"Os.Name\" is not a fact name");
    expect_error([] { inventory_from_json(R"({"facts": {}, "software": {"bash": 5}})"); },
                 ErrorCode::InvalidInput, "field \"software.bash\": must be a string");
    expect_error([] { inventory_from_json(R"({"facts": [], "software": {}})"); },
                 ErrorCode::InvalidInput, "field \"facts\": must be an object");
    Inventory infinite;
    infinite.facts["x"] = std::numeric_limits<double>::infinity();
    expect_error([&] { inventory_to_json(infinite); }, ErrorCode::InvalidInput,
                 "fact \"x\": not a finite number");
}

BOOST_AUTO_TEST_CASE(FullReportHasTheShapeTheSiteTakes) {
    const std::string body = full_report_json(sample_inventory(), 7);
    const auto object = parse(body);
    BOOST_TEST(keys_of(object) == (std::vector<std::string>{"facts", "full", "seq", "software"}));
    BOOST_TEST(object->getValue<bool>("full") == true);
    BOOST_TEST(object->get("seq").isInteger());
    BOOST_TEST(object->getValue<std::int64_t>("seq") == 7);
    const auto facts = object->getObject("facts");
    BOOST_TEST(facts->size() == 4u);
    BOOST_TEST(facts->get("hw.memory_mb").isInteger());
    BOOST_TEST(facts->getValue<std::int64_t>("hw.memory_mb") == 8192);
    BOOST_TEST(facts->getValue<double>("hw.load") == 0.5);
    BOOST_TEST(facts->get("os.name").isString());
    BOOST_TEST(facts->getValue<std::string>("site.name") == "Zürich \"lab\" \\ 2");
    const auto software = object->getArray("software");
    BOOST_REQUIRE(software->size() == 3u);
    BOOST_TEST(keys_of(software->getObject(0)) == (std::vector<std::string>{"name", "version"}));
    BOOST_TEST(software->getObject(0)->getValue<std::string>("name") == "bash");
    BOOST_TEST(software->getObject(0)->getValue<std::string>("version") == "5.2");
    BOOST_TEST(software->getObject(1)->getValue<std::string>("name") == "ferry:hello");
    BOOST_TEST(keys_of(software->getObject(2)) == std::vector<std::string>{"name"});

    // And the site's own parser takes it as sent.
    const server::Inventory site = server::parse_inventory(body);
    BOOST_TEST(site.full);
    BOOST_TEST(site.seq == 7);
    BOOST_TEST(site.facts.size() == 4u);
    BOOST_TEST(site.software.size() == 3u);
    for (const auto& fact : site.facts) {
        if (fact.key == "hw.memory_mb") BOOST_TEST((fact.number && *fact.number == 8192.0));
        if (fact.key == "os.name") BOOST_TEST(!fact.number.has_value());
    }
    expect_error([] { full_report_json(Inventory{}, 0); }, ErrorCode::InvalidInput, "seq");
}

BOOST_AUTO_TEST_CASE(ChangeReportHasTheShapeTheSiteTakes) {
    InventoryChange change;
    change.facts = {{"hw.memory_mb", std::int64_t{16384}}};
    change.removed_facts = {"net.eth0.ipv4"};
    change.software = {{"bash", "5.2"}};
    change.removed_software = {"nginx", "zlib1g"};
    const std::string body = change_report_json(change, 3, 2);
    const auto object = parse(body);
    BOOST_TEST(keys_of(object) ==
               (std::vector<std::string>{"base", "facts", "full", "removed_facts",
                                         "removed_software", "seq", "software"}));
    BOOST_TEST(object->getValue<bool>("full") == false);
    BOOST_TEST(object->getValue<std::int64_t>("seq") == 3);
    BOOST_TEST(object->getValue<std::int64_t>("base") == 2);
    BOOST_TEST(object->getObject("facts")->getValue<std::int64_t>("hw.memory_mb") == 16384);
    BOOST_TEST(object->getArray("software")->getObject(0)->getValue<std::string>("version") ==
               "5.2");
    BOOST_TEST(object->getArray("removed_facts")->getElement<std::string>(0) == "net.eth0.ipv4");
    BOOST_TEST(object->getArray("removed_software")->size() == 2u);
    BOOST_TEST(object->getArray("removed_software")->getElement<std::string>(1) == "zlib1g");

    const server::Inventory site = server::parse_inventory(body);
    BOOST_TEST(!site.full);
    BOOST_TEST(site.seq == 3);
    BOOST_TEST(site.base == 2);
    BOOST_TEST(site.removed_facts == change.removed_facts);
    BOOST_TEST(site.removed_software == change.removed_software);

    // An empty change is still a well-formed report.
    const auto empty = parse(change_report_json(InventoryChange{}, 4, 3));
    BOOST_TEST(empty->getObject("facts")->size() == 0u);
    BOOST_TEST(empty->getArray("removed_software")->size() == 0u);
    BOOST_CHECK_NO_THROW(server::parse_inventory(change_report_json(InventoryChange{}, 4, 3)));
    expect_error([] { change_report_json(InventoryChange{}, 1, -1); }, ErrorCode::InvalidInput,
                 "base");
}

BOOST_AUTO_TEST_CASE(ThisMachineReportsItsOsAndMemory) {
    const Inventory inventory = collect_inventory(InventorySources{}, {});
    BOOST_TEST_MESSAGE("this machine:\n" << inventory_to_json(Inventory{inventory.facts, {}}));
    BOOST_TEST(inventory.facts.count("os.name") == 1u);
    BOOST_REQUIRE(inventory.facts.count("hw.memory_mb") == 1u);
    BOOST_TEST(std::get<std::int64_t>(inventory.facts.at("hw.memory_mb")) > 0);
    BOOST_TEST(inventory.facts.count("os.kernel") == 1u);
    BOOST_TEST(inventory.facts.count("disk.0.size_mb") == 1u);
    for (const auto& [key, value] : inventory.facts)
        BOOST_TEST(server::is_fact_key(key), key << " is not a fact name for the site");
    // What it collects, the site takes.
    BOOST_CHECK_NO_THROW(server::parse_inventory(full_report_json(inventory, 1)));
}
