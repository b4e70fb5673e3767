// inventory_from_json (the one-pass reader of inventory reports) against the reader it
// replaced: json::parse_object into a Poco object tree, then json::FieldReader. Kept here as the
// reference, the two must agree on every text: the same Inventory, or the same error code and
// message. Hand-written cases cover every error path (and pin the exact messages clients and
// tests read); generated and mutated reports cover their combinations.
#define BOOST_TEST_MODULE inventory_json
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Handler.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "client.h"
#include "client_api.h"
#include "expect_error.h"
#include "ferry/error.h"
#include "ferry/json.h"
#include "inventory_json.h"
#include "plain_json.h"

using namespace ferry;
using server::Fact;
using server::Inventory;
using server::kMaxFacts;
using server::kMaxSoftware;
using server::Software;

namespace {

// ---- the reference: parse_inventory as it was, over a Poco object tree ----

std::string reference_number_text(double value) {
    if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
        return std::to_string(static_cast<long long>(value));
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}

std::vector<Fact> reference_facts(const json::FieldReader& in) {
    std::vector<Fact> facts;
    const auto object = in.object("facts", false);
    if (!object) return facts;
    if (object->size() > kMaxFacts)
        throw Error(ErrorCode::LimitExceeded,
                    in.where("facts") + ": more than " + std::to_string(kMaxFacts) + " facts");
    for (const auto& [key, value] : *object) {
        Fact fact{key, "", std::nullopt};
        if (value.isString()) {
            fact.text = value.extract<std::string>();
            if (fact.text.size() > 1024 || !json::is_printable(fact.text))
                throw Error(ErrorCode::InvalidInput, in.where("facts." + key.substr(0, 64)) +
                                                         ": at most 1024 printable characters");
        } else if (value.isNumeric() && !value.isBoolean()) {
            fact.number = value.convert<double>();
            fact.text = reference_number_text(*fact.number);
        } else if (value.isBoolean()) {
            fact.text = value.extract<bool>() ? "true" : "false";
        } else {
            throw Error(ErrorCode::InvalidInput, in.where("facts." + key.substr(0, 64)) +
                                                     ": must be a string, number or boolean");
        }
        facts.push_back(std::move(fact));
    }
    return facts;
}

std::vector<Software> reference_software(const json::FieldReader& in) {
    std::vector<Software> software;
    const auto list = in.array("software", false);
    if (!list) return software;
    if (list->size() > kMaxSoftware)
        throw Error(ErrorCode::LimitExceeded, in.where("software") + ": more than " +
                                                  std::to_string(kMaxSoftware) + " packages");
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto item = list->getObject(static_cast<unsigned>(i));
        const std::string where = "software[" + std::to_string(i) + "]";
        if (!item) throw Error(ErrorCode::InvalidInput, in.where(where) + ": must be an object");
        json::FieldReader entry(item, in.source(), where + ".");
        entry.allow_only({"name", "version"});
        software.push_back({entry.string("name", true, 256), entry.string("version", false, 256)});
    }
    return software;
}

Inventory reference_parse(const std::string& body) {
    json::FieldReader in(
        json::parse_object(body, "inventory", 8 * kMaxSoftware + 4 * kMaxFacts + 64), "inventory");
    in.allow_only(
        {"full", "seq", "base", "facts", "removed_facts", "software", "removed_software"});
    Inventory inventory;
    inventory.full = in.boolean("full", true);
    inventory.seq = in.integer("seq", true, 1, INT64_MAX / 2);
    inventory.base = in.integer("base", !inventory.full, 0, INT64_MAX / 2);
    inventory.facts = reference_facts(in);
    inventory.software = reference_software(in);
    inventory.removed_facts = in.strings("removed_facts", false, kMaxFacts, 64);
    inventory.removed_software = in.strings("removed_software", false, kMaxSoftware, 256);
    if (inventory.full && (!inventory.removed_facts.empty() || !inventory.removed_software.empty()))
        throw Error(ErrorCode::InvalidInput,
                    "inventory: field \"removed_facts\"/\"removed_software\": only in a change "
                    "report (full: false)");
    return inventory;
}

// ---- comparing outcomes ----

struct Outcome {
    bool ok = false;
    Inventory inventory;
    std::string error;  // "CODE: message", or "other: what" for anything but ferry::Error
};

template <typename Parse>
Outcome outcome(Parse parse, const std::string& body) {
    Outcome out;
    try {
        out.inventory = parse(body);
        out.ok = true;
    } catch (const Error& e) {
        out.error = std::string(error_code_name(e.code())) + ": " + e.what();
    } catch (const std::exception& e) {
        out.error = std::string("other: ") + e.what();
    }
    return out;
}

std::string describe(const Inventory& inv) {
    std::ostringstream out;
    out << "full=" << inv.full << " seq=" << inv.seq << " base=" << inv.base << " facts={";
    for (const auto& f : inv.facts) {
        out << f.key << "=" << f.text;
        if (f.number) {
            char n[40];
            std::snprintf(n, sizeof n, "%.17g", *f.number);
            out << "#" << n;
        }
        out << ";";
    }
    out << "} software={";
    for (const auto& s : inv.software) out << s.name << "@" << s.version << ";";
    out << "} removed_facts={";
    for (const auto& k : inv.removed_facts) out << k << ";";
    out << "} removed_software={";
    for (const auto& n : inv.removed_software) out << n << ";";
    out << "}";
    return out.str();
}

std::string describe(const Outcome& o) { return o.ok ? "ok " + describe(o.inventory) : o.error; }

std::string shown(const std::string& body) {
    return body.size() <= 300
               ? body
               : body.substr(0, 300) + "… (" + std::to_string(body.size()) + " bytes)";
}

bool plain_reads_as_poco(const std::string& text);

// Both readers on `body`: the same outcome. Returns it, described.
std::string same(const std::string& body) {
    const std::string expected = describe(outcome(reference_parse, body));
    const std::string actual = describe(outcome(server::inventory_from_json, body));
    plain_reads_as_poco(body);
    BOOST_TEST(actual == expected, "body: " << shown(body) << "\n  reference: " << expected
                                            << "\n  new:       " << actual);
    return actual;
}

// ---- the quick reader (read_plain_json) against Poco's parser, event by event ----

// Every event a parser gives, as text. Integers are one kind whatever their C++ type; reals
// are written exactly (%a).
class RecordingHandler final : public Poco::JSON::Handler {
  public:
    std::vector<std::string> events;

    void reset() override {}
    void startObject() override { events.push_back("{"); }
    void endObject() override { events.push_back("}"); }
    void startArray() override { events.push_back("["); }
    void endArray() override { events.push_back("]"); }
    void key(const std::string& k) override { events.push_back("key " + k); }
    void null() override { events.push_back("null"); }
    void value(int v) override { events.push_back("int " + std::to_string(v)); }
    void value(unsigned v) override { events.push_back("int " + std::to_string(v)); }
    void value(Poco::Int64 v) override { events.push_back("int " + std::to_string(v)); }
    void value(Poco::UInt64 v) override { events.push_back("int " + std::to_string(v)); }
    void value(const std::string& v) override { events.push_back("text " + v); }
    void value(double v) override {
        char text[64];
        std::snprintf(text, sizeof text, "real %a", v);
        events.push_back(text);
    }
    void value(bool v) override { events.push_back(v ? "true" : "false"); }
};

std::string joined(const std::vector<std::string>& events) {
    std::string out;
    for (const auto& e : events) out += e + " | ";
    return out;
}

// When the quick reader takes `text`, Poco's parser takes it too and gives the same events.
// Returns whether the quick reader took it.
bool plain_reads_as_poco(const std::string& text) {
    RecordingHandler quick;
    const bool taken = server::read_plain_json(text, quick);
    if (!taken) return false;
    auto* poco = new RecordingHandler;  // the parser owns it
    Poco::JSON::Parser parser(poco);
    std::string poco_error;
    try {
        parser.parse(text);
    } catch (const Poco::Exception& e) {
        poco_error = e.displayText();
    }
    BOOST_TEST(poco_error.empty(), "taken by the quick reader, refused by Poco ("
                                       << poco_error << "): " << shown(text));
    BOOST_TEST(joined(quick.events) == joined(poco->events), "text: " << shown(text));
    return true;
}

// The same outcome, and it is this error.
void same_error(const std::string& body, const std::string& error) {
    const std::string got = same(body);
    BOOST_TEST(got == error,
               "body: " << shown(body) << "\n  got:      " << got << "\n  expected: " << error);
}

std::string with(const std::string& fields) { return "{\"full\": true, \"seq\": 1" + fields + "}"; }
std::string change(const std::string& fields) {
    return "{\"full\": false, \"seq\": 2, \"base\": 1" + fields + "}";
}

// A report as an agent sends it: `facts` facts and `packages` packages.
std::string report(std::size_t facts, std::size_t packages) {
    std::string body = "{\"full\": true, \"seq\": 7, \"facts\": {";
    for (std::size_t i = 0; i < facts; ++i) {
        if (i) body += ", ";
        body += "\"fact.n" + std::to_string(i) + "\": ";
        body += i % 3 == 0 ? std::to_string(i * 512) : "\"value " + std::to_string(i) + "\"";
    }
    body += "}, \"software\": [";
    for (std::size_t i = 0; i < packages; ++i) {
        if (i) body += ", ";
        body += "{\"name\": \"package-" + std::to_string(i) + "\", \"version\": \"1." +
                std::to_string(i) + "-" + std::to_string(i % 7) + "+deb12u1\"}";
    }
    return body + "]}";
}

std::string repeat(const std::string& item, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += (i ? "," : "") + item;
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(inventory_json)

BOOST_AUTO_TEST_CASE(ReadsAReportAsTheObjectTreeDid) {
    const std::string body = report(16, 250);
    same(body);
    const Inventory inv = server::inventory_from_json(body);
    BOOST_TEST(inv.full);
    BOOST_TEST(inv.seq == 7);
    BOOST_TEST(inv.facts.size() == 16u);
    BOOST_TEST(inv.software.size() == 250u);
    // Facts come in key order; packages in the order sent.
    BOOST_TEST(inv.facts[0].key == "fact.n0");
    BOOST_TEST(inv.facts[1].key == "fact.n1");
    BOOST_TEST(inv.facts[2].key == "fact.n10");
    BOOST_TEST(inv.software[3].name == "package-3");
    BOOST_TEST(inv.software[3].version == "1.3-3+deb12u1");
    BOOST_TEST(server::parse_inventory(body).software.size() == 250u);
}

BOOST_AUTO_TEST_CASE(FactsOfEveryKind) {
    same(with(R"(, "facts": {"a": "text", "b": 4096, "c": -3, "d": 1.5, "e": 1e3, "f": true,
                 "g": false, "h": 0.1, "i": 123456789012345678, "j": 18446744073709551615,
                 "k": 1e300, "l": -0.0, "m": 2.5e-8, "n": "", "o": 9007199254740993})"));
    const Inventory inv = server::inventory_from_json(
        with(R"(, "facts": {"b": 4096, "d": 1.5, "f": true, "a": "x", "e": 1e3})"));
    BOOST_TEST(describe(inv) ==
               "full=1 seq=1 base=0 facts={a=x;b=4096#4096;d=1.5#1.5;e=1000#1000;f=true;} "
               "software={} removed_facts={} removed_software={}");
    same_error(with(R"(, "facts": {"a": null})"),
               "invalid-input: inventory: field \"facts.a\": must be a string, number or boolean");
    same_error(with(R"(, "facts": {"b": 1, "a": [1]})"),
               "invalid-input: inventory: field \"facts.a\": must be a string, number or boolean");
    same_error(with(R"(, "facts": {"z": {}, "a": "\u0007"})"),
               "invalid-input: inventory: field \"facts.a\": at most 1024 printable characters");
    same_error(with(R"(, "facts": {"a": ")" + std::string(1025, 'x') + "\"}"),
               "invalid-input: inventory: field \"facts.a\": at most 1024 printable characters");
    same(with(R"(, "facts": {"a": ")" + std::string(1024, 'x') + "\"}"));
    same_error(with(R"(, "facts": {")" + std::string(100, 'k') + R"(": null})"),
               "invalid-input: inventory: field \"facts." + std::string(64, 'k') +
                   "\": must be a string, number or boolean");
    same_error(with(R"(, "facts": [])"),
               "invalid-input: inventory: field \"facts\": must be an object");
    same_error(with(R"(, "facts": "x")"),
               "invalid-input: inventory: field \"facts\": must be an object");
    same(with(R"(, "facts": null)"));
    same(with(R"(, "facts": {})"));
    // A fact key is not checked here (ClientService does), only named, shortened.
    same(with(R"(, "facts": {"Not A Key!": 1, "": 2, "\u00e9t\u00e9": "\u00e9"})"));
}

BOOST_AUTO_TEST_CASE(TooManyFactsOrPackagesIsALimit) {
    std::string facts;
    for (std::size_t i = 0; i <= kMaxFacts; ++i)
        facts += (i ? "," : "") + std::string("\"f") + std::to_string(i) + "\": 1";
    same_error(with(", \"facts\": {" + facts + "}"),
               "limit-exceeded: inventory: field \"facts\": more than 1000 facts");
    same(with(", \"facts\": {" + facts.substr(facts.find(',') + 1) + "}"));
    same_error(with(", \"software\": [" + repeat("{}", kMaxSoftware + 1) + "]"),
               "limit-exceeded: inventory: field \"software\": more than 50000 packages");
    same_error(with(", \"software\": [" + repeat("1", kMaxSoftware + 1) + "]"),
               "limit-exceeded: inventory: field \"software\": more than 50000 packages");
    same_error(change(", \"removed_facts\": [" + repeat("\"a\"", kMaxFacts + 1) + "]"),
               "invalid-input: inventory: field \"removed_facts\": at most 1000 items");
    same(change(", \"removed_facts\": [" + repeat("\"a\"", kMaxFacts) + "]"));
    same_error(change(", \"removed_software\": [" + repeat("\"a\"", kMaxSoftware + 1) + "]"),
               "invalid-input: inventory: field \"removed_software\": at most 50000 items");
}

BOOST_AUTO_TEST_CASE(PackagesAreCheckedInOrder) {
    same(with(R"(, "software": [{"name": "a"}, {"name": "b", "version": null},
                                {"name": "c", "version": ""}, {"version": "1", "name": "d"}])"));
    same_error(with(R"(, "software": [{"name": "a"}, 3])"),
               "invalid-input: inventory: field \"software[1]\": must be an object");
    same_error(with(R"(, "software": [null])"),
               "invalid-input: inventory: field \"software[0]\": must be an object");
    same_error(with(R"(, "software": [[]])"),
               "invalid-input: inventory: field \"software[0]\": must be an object");
    same_error(with(R"(, "software": [{"name": "a", "zz": 1, "arch": 2, "version": 3}])"),
               "invalid-input: inventory: field \"software[0].arch\": unknown field");
    same_error(with(R"(, "software": [{"version": "1"}])"),
               "invalid-input: inventory: field \"software[0].name\": is required");
    same_error(with(R"(, "software": [{"name": null}])"),
               "invalid-input: inventory: field \"software[0].name\": is required");
    same_error(with(R"(, "software": [{"name": ""}])"),
               "invalid-input: inventory: field \"software[0].name\": must not be empty");
    same_error(with(R"(, "software": [{"name": 5}])"),
               "invalid-input: inventory: field \"software[0].name\": must be a string");
    same_error(with(R"(, "software": [{"name": {"x": 1}}])"),
               "invalid-input: inventory: field \"software[0].name\": must be a string");
    same_error(with(R"(, "software": [{"name": "a\tb"}])"),
               "invalid-input: inventory: field \"software[0].name\": contains control characters");
    same_error(with(R"(, "software": [{"name": "a\u007f"}])"),
               "invalid-input: inventory: field \"software[0].name\": contains control characters");
    same_error(with(R"(, "software": [{"name": ")" + std::string(257, 'n') + "\"}]"),
               "invalid-input: inventory: field \"software[0].name\": longer than 256 bytes");
    same(with(R"(, "software": [{"name": ")" + std::string(256, 'n') + "\"}]"));
    same_error(with(R"(, "software": [{"name": "a", "version": true}])"),
               "invalid-input: inventory: field \"software[0].version\": must be a string");
    same_error(
        with(R"(, "software": [{"name": "a", "version": ")" + std::string(257, 'v') + "\"}]"),
        "invalid-input: inventory: field \"software[0].version\": longer than 256 bytes");
    same_error(with(R"(, "software": [{"name": "a", "version": "1\n"}])"),
               "invalid-input: inventory: field \"software[0].version\": contains control "
               "characters");
    same_error(with(R"(, "software": {})"),
               "invalid-input: inventory: field \"software\": must be an array");
    same_error(with(R"(, "software": "x")"),
               "invalid-input: inventory: field \"software\": must be an array");
    same(with(R"(, "software": null)"));
    // Two packages of one name are both kept, in order (the store keeps the last).
    same(with(R"(, "software": [{"name": "a", "version": "1"}, {"name": "a", "version": "2"}])"));
    // The first bad package wins, whatever is wrong with later ones or later fields.
    same_error(with(R"(, "software": [{"name": "a"}, {"name": ""}, {"bad": 1}],
                       "removed_facts": 3)"),
               "invalid-input: inventory: field \"software[1].name\": must not be empty");
}

BOOST_AUTO_TEST_CASE(TopLevelFieldsAndTheirOrder) {
    same_error("{}", "invalid-input: inventory: field \"full\": is required");
    same_error(R"({"full": null, "seq": 1})",
               "invalid-input: inventory: field \"full\": is required");
    same_error(R"({"full": 1, "seq": 1})",
               "invalid-input: inventory: field \"full\": must be true or false");
    same_error(R"({"full": "true", "seq": 1})",
               "invalid-input: inventory: field \"full\": must be true or false");
    same_error(R"({"full": true})", "invalid-input: inventory: field \"seq\": is required");
    same_error(
        R"({"full": true, "seq": 0})",
        "invalid-input: inventory: field \"seq\": must be between 1 and 4611686018427387903");
    same_error(
        R"({"full": true, "seq": 4611686018427387904})",
        "invalid-input: inventory: field \"seq\": must be between 1 and 4611686018427387903");
    same(R"({"full": true, "seq": 4611686018427387903})");
    same_error(
        R"({"full": true, "seq": -9223372036854775808})",
        "invalid-input: inventory: field \"seq\": must be between 1 and 4611686018427387903");
    same_error(R"({"full": true, "seq": 9223372036854775808})",
               "invalid-input: inventory: field \"seq\": integer out of range");
    same_error(R"({"full": true, "seq": 18446744073709551615})",
               "invalid-input: inventory: field \"seq\": integer out of range");
    same(R"({"full": true, "seq": 18446744073709551616})");  // whatever Poco makes of it
    same(R"({"full": true, "seq": -9223372036854775809})");
    same_error(R"({"full": true, "seq": 1.0})",
               "invalid-input: inventory: field \"seq\": must be an integer");
    same_error(R"({"full": true, "seq": 1e2})",
               "invalid-input: inventory: field \"seq\": must be an integer");
    same_error(R"({"full": true, "seq": true})",
               "invalid-input: inventory: field \"seq\": must be an integer");
    same_error(R"({"full": true, "seq": "1"})",
               "invalid-input: inventory: field \"seq\": must be an integer");
    same_error(R"({"full": true, "seq": [1]})",
               "invalid-input: inventory: field \"seq\": must be an integer");
    same_error(R"({"full": false, "seq": 2})",
               "invalid-input: inventory: field \"base\": is required");
    same_error(R"({"full": false, "seq": 2, "base": null})",
               "invalid-input: inventory: field \"base\": is required");
    same_error(
        R"({"full": true, "seq": 2, "base": -1})",
        "invalid-input: inventory: field \"base\": must be between 0 and 4611686018427387903");
    same_error(R"({"full": true, "seq": 2, "base": {}})",
               "invalid-input: inventory: field \"base\": must be an integer");
    same(R"({"full": true, "seq": 2, "base": 0})");
    same(R"({"full": false, "seq": 2, "base": 0})");
    // Unknown fields first, the smallest key first, whatever else is wrong.
    same_error(R"({"seq": "x", "zeta": 1, "alpha": [1, 2], "full": 3})",
               "invalid-input: inventory: field \"alpha\": unknown field");
    same_error(R"({"Full": true, "seq": 1})",
               "invalid-input: inventory: field \"Full\": unknown field");
    same_error(R"({"full": true, "seq": 1, "\u00e9": 1, "z": 2})",
               "invalid-input: inventory: field \"z\": unknown field");
    // Then full, seq, base, facts, software, removed_facts, removed_software.
    same_error(R"({"removed_software": 1, "removed_facts": 1, "software": 1, "facts": 1,
                   "base": "x", "seq": "x", "full": "x"})",
               "invalid-input: inventory: field \"full\": must be true or false");
    same_error(R"({"removed_software": 1, "removed_facts": 1, "software": 1, "facts": 1,
                   "base": "x", "seq": "x", "full": false})",
               "invalid-input: inventory: field \"seq\": must be an integer");
    same_error(R"({"removed_software": 1, "removed_facts": 1, "software": 1, "facts": 1,
                   "base": "x", "seq": 3, "full": false})",
               "invalid-input: inventory: field \"base\": must be an integer");
    same_error(R"({"removed_software": 1, "removed_facts": 1, "software": 1, "facts": 1,
                   "base": 2, "seq": 3, "full": false})",
               "invalid-input: inventory: field \"facts\": must be an object");
    same_error(R"({"removed_software": 1, "removed_facts": 1, "software": 1, "facts": {},
                   "base": 2, "seq": 3, "full": false})",
               "invalid-input: inventory: field \"software\": must be an array");
    same_error(R"({"removed_software": 1, "removed_facts": 1, "software": [], "facts": {},
                   "base": 2, "seq": 3, "full": false})",
               "invalid-input: inventory: field \"removed_facts\": must be an array");
    same_error(R"({"removed_software": 1, "removed_facts": [], "software": [], "facts": {},
                   "base": 2, "seq": 3, "full": false})",
               "invalid-input: inventory: field \"removed_software\": must be an array");
}

BOOST_AUTO_TEST_CASE(RemovalsOnlyInAChange) {
    same(change(R"(, "removed_facts": ["a", "b.c"], "removed_software": ["x", "y"])"));
    same(change(R"(, "removed_facts": null, "removed_software": [])"));
    same_error(with(R"(, "removed_facts": ["a"])"),
               "invalid-input: inventory: field \"removed_facts\"/\"removed_software\": only in a "
               "change report (full: false)");
    same_error(with(R"(, "removed_software": ["a"])"),
               "invalid-input: inventory: field \"removed_facts\"/\"removed_software\": only in a "
               "change report (full: false)");
    same(with(R"(, "removed_facts": [], "removed_software": null)"));
    same_error(change(R"(, "removed_facts": ["a", 1])"),
               "invalid-input: inventory: field \"removed_facts\"[1]: must be a string");
    same_error(change(R"(, "removed_facts": [null])"),
               "invalid-input: inventory: field \"removed_facts\"[0]: must be a string");
    same_error(change(R"(, "removed_facts": [")" + std::string(65, 'k') + "\"]"),
               "invalid-input: inventory: field \"removed_facts\"[0]: must be at most 64 printable "
               "bytes");
    same_error(change(R"(, "removed_software": ["a\u0000b"])"),
               "invalid-input: inventory: field \"removed_software\"[0]: must be at most 256 "
               "printable bytes");
    same(change(R"(, "removed_software": [")" + std::string(256, 'k') + "\"]"));
    same_error(change(R"(, "removed_software": [{}])"),
               "invalid-input: inventory: field \"removed_software\"[0]: must be a string");
}

BOOST_AUTO_TEST_CASE(InvalidJsonAndTheGuard) {
    BOOST_TEST(same("").rfind("invalid-input: inventory: invalid JSON: ", 0) == 0u);
    same("   ");
    same("{");
    same("{\"full\": true,}");
    same("{\"full\": tru}");
    same("{\"full\": true} x");
    same("{\"full\": true}{}");
    same("{'full': true}");
    same("{\"full\": true, \"seq\": 01}");
    same("{\"full\": true, \"seq\": 1.}");
    same("{\"full\": true, \"seq\": -}");
    same("{\"full\": true, \"seq\": 1 /* c */}");
    same("{\"full\": true, \"seq\": 1, \"facts\": {\"a\": \"\\x\"}}");
    same("{\"full\": true, \"seq\": 1, \"facts\": {\"a\": \"\\ud800\"}}");
    same("{\"full\": true, \"seq\": 1, \"facts\": {\"a\": \"\\udc00x\"}}");
    same("{\"full\": true, \"seq\": 1, \"facts\": {\"a\": \"\\ud83d\\ude00\"}}");
    same("{\"full\": true, \"seq\": 1, \"facts\": {\"a\": \"\xff\xfe\"}}");
    same("{\"full\": true, \"seq\": 1, \"facts\": {\"a\": \"\xc3\xa9\"}}");
    same(std::string("{\"full\": true, \"seq\": 1, \"facts\": {\"a\": \"x\0y\"}}", 42));
    same(std::string("{\"full\": true, \"seq\": 1}\0", 25));
    same("{\"full\": true, \"seq\": 1, \"facts\": {\"a\": \"line\nbreak\"}}");
    same_error("[]", "invalid-input: inventory: the top level must be a JSON object");
    same_error("[{\"a\": 1}, 2]", "invalid-input: inventory: the top level must be a JSON object");
    same_error("\"x\"",
               "invalid-input: inventory: invalid JSON: Attempt to set value on an empty stack");
    same_error("5",
               "invalid-input: inventory: invalid JSON: Attempt to set value on an empty stack");
    same_error("null",
               "invalid-input: inventory: invalid JSON: Attempt to set value on an empty stack");
    // Duplicate keys, at any depth, even where the value is not read.
    same_error(R"({"full": true, "full": true, "seq": 1})",
               "invalid-input: inventory: invalid JSON: duplicate key \"full\"");
    same_error(with(R"(, "facts": {"a": 1, "b": 2, "a": 3})"),
               "invalid-input: inventory: invalid JSON: duplicate key \"a\"");
    same_error(with(R"(, "software": [{"name": "a", "name": "b"}])"),
               "invalid-input: inventory: invalid JSON: duplicate key \"name\"");
    same_error(with(R"(, "software": [{"name": "a", "x": 1, "x": 2}])"),
               "invalid-input: inventory: invalid JSON: duplicate key \"x\"");
    same_error(with(R"(, "other": [{"deep": {"k": 1, "k": 2}}])"),
               "invalid-input: inventory: invalid JSON: duplicate key \"k\"");
    same_error("[{\"k\": 1, \"k\": 2}]",
               "invalid-input: inventory: invalid JSON: duplicate key \"k\"");
    // A duplicate before a syntax error is what is reported, and after one it is not.
    same(R"({"a": 1, "a": 2, )");
    same(R"({"a": 1, "b": , "a": 2})");
    // The same key in two objects is not a duplicate.
    same(with(R"(, "software": [{"name": "a"}, {"name": "b"}])"));
    // Many keys in one object: duplicates still found (beyond the short list).
    std::string keys;
    for (int i = 0; i < 5000; ++i)
        keys += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\": 1";
    same_error(with(", \"x\": {" + keys + "}"),
               "invalid-input: inventory: field \"x\": unknown field");
    same_error(with(", \"x\": {" + keys + ", \"k4999\": 2}"),
               "invalid-input: inventory: invalid JSON: duplicate key \"k4999\"");
    same_error(with(", \"x\": {" + keys + ", \"k3\": 2}"),
               "invalid-input: inventory: invalid JSON: duplicate key \"k3\"");
}

BOOST_AUTO_TEST_CASE(TheValueBudget) {
    // 8 * 50000 + 4 * 1000 + 64 units; objects and arrays count 8, scalars 1, keys nothing.
    const std::size_t budget = 8 * kMaxSoftware + 4 * kMaxFacts + 64;
    const std::string message = "invalid-input: inventory: invalid JSON: more than " +
                                std::to_string(budget) +
                                " value units (objects and arrays count 8)";
    // {"x": [1, 1, …]}: 8 + 8 + n units.
    same_error("{\"x\": [" + repeat("1", budget - 15) + "]}", message);
    same_error("{\"x\": [" + repeat("1", budget - 16) + "]}",
               "invalid-input: inventory: field \"x\": unknown field");
    same_error("{\"x\": [" + repeat("[]", budget / 8) + "]}", message);
    same_error("{\"x\": [" + repeat("{}", budget / 8) + "]}", message);
    same_error("[" + repeat("null", budget) + "]", message);
    // Over the budget, but a syntax error comes first.
    same("{\"x\": [1 1, " + repeat("1", budget) + "]}");
}

BOOST_AUTO_TEST_CASE(DeepNesting) {
    for (const int depth : {10, 100, 127, 128, 129, 1000, 5000, 50000}) {
        const std::string open(static_cast<std::size_t>(depth), '[');
        const std::string close(static_cast<std::size_t>(depth), ']');
        same(with(", \"x\": " + open + close));
        same(with(", \"facts\": {\"a\": " + open + close + "}"));
        same(with(", \"software\": " + open + close));
        same(open + close);
        std::string objects;
        for (int i = 0; i < depth; ++i) objects += "{\"k\": ";
        objects += "1" + std::string(static_cast<std::size_t>(depth), '}');
        same(with(", \"x\": " + objects));
        same(objects);
    }
}

// Reports made of random pieces: the right keys with values of every kind, wrong keys, nested
// containers, with valid pieces often enough that later checks are reached.
class Generator {
  public:
    explicit Generator(unsigned seed) : random_(seed) {}

    std::string report() {
        std::vector<std::string> fields;
        const char* names[] = {
            "full", "seq", "base", "facts", "software", "removed_facts", "removed_software"};
        for (const char* name : names) {
            const bool required = name == std::string("full") || name == std::string("seq");
            if (chance(required ? 0.03 : 0.4)) continue;
            fields.push_back(quoted(name) + ": " + field_value(name));
        }
        if (chance(0.1))
            fields.push_back(quoted(pick({"x", "Seq", "facts ", "a", "zz"})) + ": " + value(2));
        if (chance(0.03) && !fields.empty()) fields.push_back(fields[pick_index(fields.size())]);
        shuffle(fields);
        return object(fields);
    }

  private:
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(random_) < p; }
    std::size_t pick_index(std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(random_);
    }
    std::string pick(std::initializer_list<const char*> list) {
        return *(list.begin() + pick_index(list.size()));
    }
    void shuffle(std::vector<std::string>& v) { std::shuffle(v.begin(), v.end(), random_); }
    static std::string quoted(const std::string& s) { return "\"" + s + "\""; }
    static std::string object(const std::vector<std::string>& fields) {
        std::string out = "{";
        for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? ", " : "") + fields[i];
        return out + "}";
    }
    static std::string array(const std::vector<std::string>& items) {
        std::string out = "[";
        for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
        return out + "]";
    }

    std::string text() {
        if (chance(0.8)) return quoted(pick({"a", "os.name", "Debian GNU/Linux", "1.2.3-4"}));
        return quoted(pick({"", "a", "os.name", "Debian GNU/Linux", "1.2.3-4", "tab\\there",
                            "nl\\n", "\\u00e9t\\u00e9", "\\ud83d\\ude00", "ctl\\u0001",
                            "del\\u007f", "quote\\\"", "slash\\/", "\\u0000"}));
    }
    std::string number() {
        return pick({"0", "1", "2", "-1", "7", "4096", "1.5", "1e3", "-0", "0.0",
                     "4611686018427387903", "4611686018427387904", "9223372036854775807",
                     "9223372036854775808", "18446744073709551615", "1e400", "-1e-400"});
    }
    std::string value(int depth) {
        switch (pick_index(depth > 0 ? 8 : 5)) {
            case 0:
                return text();
            case 1:
                return number();
            case 2:
                return pick({"true", "false"});
            case 3:
                return "null";
            case 4:
                return text();
            case 5: {
                std::vector<std::string> items;
                for (std::size_t i = pick_index(4); i > 0; --i) items.push_back(value(depth - 1));
                return array(items);
            }
            default: {
                std::vector<std::string> fields;
                for (std::size_t i = pick_index(4); i > 0; --i)
                    fields.push_back(quoted(pick({"a", "b", "name", "version", "k"})) + ": " +
                                     value(depth - 1));
                return object(fields);
            }
        }
    }
    std::string package() {
        if (chance(0.03)) return value(2);
        std::vector<std::string> fields;
        if (!chance(0.03))
            fields.push_back("\"name\": " + (chance(0.95)
                                                 ? quoted(pick({"a", "bash", "libc6", "x-y_z.1"}))
                                                 : value(1)));
        if (!chance(0.3))
            fields.push_back("\"version\": " +
                             (chance(0.95) ? quoted(pick({"1", "", "2.36-9+deb12u4"})) : value(1)));
        if (chance(0.02)) fields.push_back(quoted(pick({"arch", "Name", "zz"})) + ": " + value(1));
        if (chance(0.02) && !fields.empty()) fields.push_back(fields[0]);
        shuffle(fields);
        return object(fields);
    }
    std::string field_value(const std::string& name) {
        if (chance(0.03)) return value(2);
        if (name == "full") return pick({"true", "false"});
        if (name == "seq") return pick({"1", "2", "5", "9", "0", "1.0"});
        if (name == "base") return pick({"0", "1", "4", "7", "-1"});
        if (name == "facts") {
            std::vector<std::string> fields;
            for (std::size_t i = pick_index(6); i > 0; --i) {
                const std::string v = chance(0.95) ? (chance(0.5) ? text() : number()) : value(1);
                fields.push_back(quoted(pick({"os.name", "hw.cores", "a", "b.c", "kernel", "z"})) +
                                 ": " + v);
            }
            return object(fields);
        }
        if (name == "software") {
            std::vector<std::string> items;
            for (std::size_t i = pick_index(6); i > 0; --i) items.push_back(package());
            return array(items);
        }
        std::vector<std::string> items;
        for (std::size_t i = pick_index(4); i > 0; --i)
            items.push_back(chance(0.95) ? text() : value(1));
        return array(items);
    }

    std::mt19937 random_;
};

BOOST_AUTO_TEST_CASE(TheQuickReaderTakesWhatAgentsSend) {
    // As agents and tests/bench/site_inventory.lua write them: every byte through the quick
    // reader, the same inventory as the reference's.
    const std::vector<std::string> texts = {
        report(16, 300),
        report(0, 0),
        with(R"(, "facts": {"os.name": "Ubuntu", "os.version": 22.04, "hw.load": -0.5e-2,)"
             R"( "hw.memory_mb": 65536, "big": 123456789012345678, "neg": -9, "z": -0,)"
             R"( "e": 1E5, "f": 2.5e+3, "g": 1e-300, "h": 123.456e2, "i": 0.1})"),
        with(",\n\t\"software\" : [ {\"name\" : \"Microsoft Visual C++ 2015-2022 (x64)\" ,"
             " \"version\":\"14.36\"} ,{\"name\":\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac "
             "\xf0\x9f\x98\x80\"}"
             " ]\r\n"),
        with(R"(, "facts": {"path": "C:\\Program Files\\x", "q": "say \"hi\"", "s": "a\/b"})"),
        change(R"(, "removed_facts": ["a", "b"], "removed_software": ["c"])"),
    };
    for (std::size_t i = 0; i < texts.size(); ++i) {
        BOOST_TEST_CONTEXT("text " << i << ": " << shown(texts[i])) {
            BOOST_TEST(plain_reads_as_poco(texts[i]));
            BOOST_TEST(same(texts[i]).rfind("ok ", 0) == 0u);
        }
    }
    // \u escapes are Poco's to read: declined, then read alike.
    const std::string escaped = with(R"(, "facts": {"site": "Z\u00fcrich"})");
    BOOST_TEST(!plain_reads_as_poco(escaped));
    BOOST_TEST(same(escaped).rfind("ok ", 0) == 0u);
    // Nesting to 64 is taken; deeper is Poco's.
    BOOST_TEST(plain_reads_as_poco(std::string(64, '[') + std::string(64, ']')));
    BOOST_TEST(!plain_reads_as_poco(std::string(65, '[') + std::string(65, ']')));
}

BOOST_AUTO_TEST_CASE(TheQuickReaderDeclinesWhatItIsNotSureOf) {
    // Each is declined (and then read by Poco's parser alike, as `same` checks).
    const std::vector<std::string> values = {
        // escapes other than the two-character ones, and bad ones
        R"("\u00e9")",
        R"("\ud83d\ude00")",
        R"("\u0000")",
        R"("\x")",
        R"("\)",
        // invalid UTF-8: overlong, surrogate, above U+10FFFF, stray and cut-off bytes
        "\"\xc0\x80\"",
        "\"\xc1\xbf\"",
        "\"\xe0\x80\x80\"",
        "\"\xed\xa0\x80\"",
        "\"\xf0\x80\x80\x80\"",
        "\"\xf4\x90\x80\x80\"",
        "\"\xf5\x80\x80\x80\"",
        "\"\x80\"",
        "\"\xc3\"",
        "\"\xe2\x82\"",
        // control characters
        std::string("\"a\0b\"", 5),
        "\"a\nb\"",
        "\"\t\"",
        // numbers: too long, out of range, not JSON
        "1234567890123456789",
        "-1234567890123456789",
        "18446744073709551616",
        "1e400",
        "-1e-400",
        "01",
        "-",
        "1.",
        ".5",
        "+1",
        "1e",
        "1e+",
        "0x10",
        "NaN",
        "Infinity",
        // literals and syntax
        "tru",
        "nul",
        "True",
        "[1,]",
        "[1 2]",
        "{\"a\" 1}",
        "{\"a\":1,}",
        "{a:1}",
        "'a'",
        "[1]]",
        "{}}",
        "\xef\xbb\xbf{}",
        "",
        "   ",
        "/* c */ {}",
    };
    for (const auto& v : values) {
        BOOST_TEST_CONTEXT("value: " << shown(v)) {
            BOOST_TEST(!plain_reads_as_poco(with(", \"x\": " + v)));
            BOOST_TEST(!plain_reads_as_poco(v));
            same(with(", \"facts\": {\"a\": " + v + "}"));
        }
    }
    // Trailing text after the value.
    BOOST_TEST(!plain_reads_as_poco(with("") + " x"));
    BOOST_TEST(!plain_reads_as_poco(with("") + "{}"));
    BOOST_TEST(!plain_reads_as_poco(with("") + std::string(1, '\0')));
    BOOST_TEST(plain_reads_as_poco(with("") + " \n\t\r "));
}

BOOST_AUTO_TEST_CASE(GeneratedReportsReadAlike) {
    Generator generate(20261127);
    int accepted = 0, quick = 0;
    std::set<std::string> kinds;
    for (int i = 0; i < 20000; ++i) {
        const std::string body = generate.report();
        const std::string got = same(body);
        if (plain_reads_as_poco(body)) ++quick;
        if (got.rfind("ok ", 0) == 0)
            ++accepted;
        else
            kinds.insert(got.substr(0, got.find(':', got.find("field") + 1)).substr(0, 90));
    }
    BOOST_TEST_MESSAGE(accepted << " of 20000 generated reports accepted; " << kinds.size()
                                << " kinds of refusal; " << quick << " taken by the quick reader");
    // Most are the quick reader's (the others have \u escapes, numbers out of its range, …).
    BOOST_TEST(quick > 10000);
    // Enough of both kinds that the comparison says something.
    BOOST_TEST(accepted > 500);
    BOOST_TEST(accepted < 19500);
    BOOST_TEST(kinds.size() > 40u);
}

BOOST_AUTO_TEST_CASE(MutatedReportsReadAlike) {
    std::mt19937 random(42);
    const std::vector<std::string> seeds = {
        report(4, 5),
        change(
            R"(, "facts": {"a": 1, "b": "x"}, "removed_facts": ["c"], "software": [{"name": "n", "version": "1"}], "removed_software": ["m"])"),
    };
    const std::string alphabet = "{}[]:,\"\\ 0123456789.eE-+truefalsnul\x01\x7f\xc3";
    for (int i = 0; i < 20000; ++i) {
        std::string body = seeds[i % seeds.size()];
        const int edits = 1 + static_cast<int>(random() % 3);
        for (int e = 0; e < edits && !body.empty(); ++e) {
            const std::size_t at = random() % body.size();
            switch (random() % 4) {
                case 0:
                    body.erase(at, 1);
                    break;
                case 1:
                    body.insert(at, 1, alphabet[random() % alphabet.size()]);
                    break;
                case 2:
                    body[at] = alphabet[random() % alphabet.size()];
                    break;
                default: {  // a slice copied elsewhere: duplicate keys, nested repeats
                    const std::size_t length = 1 + random() % 40;
                    const std::string slice = body.substr(at, length);
                    body.insert(random() % body.size(), slice);
                }
            }
        }
        same(body);
    }
}

BOOST_AUTO_TEST_SUITE_END()
