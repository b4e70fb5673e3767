#include "inventory_json.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Handler.h>
#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <unordered_set>
#include <vector>

#include "ferry/error.h"
#include "ferry/json.h"
#include "plain_json.h"

namespace ferry::server {
namespace {

// Checks are made once the whole text has parsed, so that which error a bad report gets does
// not depend on where in the text its faults are (a syntax error anywhere wins, as it did when
// the text was parsed into a tree first). Until then a value is kept as it was read.
enum class Kind : std::uint8_t {
    Absent,
    Null,
    Boolean,
    Integer,   // fits an int64
    Unsigned,  // above INT64_MAX: a number, but out of range as an integer
    Real,
    Text,
    Object,
    Array,
};

struct RawValue {
    Kind kind = Kind::Absent;
    bool boolean = false;
    std::int64_t integer = 0;
    double number = 0;  // every numeric kind, as Poco's Var converts it to double
    std::string text;

    bool present() const { return kind != Kind::Absent && kind != Kind::Null; }
    bool numeric() const {
        return kind == Kind::Integer || kind == Kind::Unsigned || kind == Kind::Real;
    }
};

struct RawFact {
    std::string key;
    RawValue value;
};

struct RawPackage {
    RawValue self;  // its kind: only an object is a package
    RawValue name;
    RawValue version;
    bool has_unknown = false;
    std::string first_unknown;  // the smallest key that is neither name nor version
};

struct RawInventory {
    RawValue root;  // its kind: only an object is a report
    RawValue full, seq, base;
    RawValue facts;  // its kind; the entries are in `fact_list`, in document order
    std::vector<RawFact> fact_list;
    RawValue software;  // its kind; the entries are in `package_list`
    std::vector<RawPackage> package_list;
    RawValue removed_facts, removed_software;  // their kinds; the entries follow
    std::vector<RawValue> removed_fact_list, removed_software_list;
    bool has_unknown = false;
    std::string first_unknown;  // the smallest top-level key that is not a report field
};

void note_unknown(bool& has_unknown, std::string& first, const std::string& key) {
    if (!has_unknown || key < first) first = key;
    has_unknown = true;
}

// The keys of one open object, to refuse a duplicate: a short list while small (an inventory's
// objects have a handful of keys each), a hash set once large (so that a hostile object of
// 100,000 keys costs no more than linear time).
class KeySet {
  public:
    void clear() {
        list_.clear();
        if (!set_.empty()) set_.clear();
    }
    bool insert(const std::string& key) {
        if (set_.empty()) {
            for (const auto& k : list_) {
                if (k == key) return false;
            }
            if (list_.size() < kListed) {
                list_.push_back(key);
                return true;
            }
            set_.insert(list_.begin(), list_.end());
            list_.clear();
        }
        return set_.insert(key).second;
    }

  private:
    static constexpr std::size_t kListed = 16;
    std::vector<std::string> list_;
    std::unordered_set<std::string> set_;
};

// Fills a RawInventory from the parser's events. Like json::parse_object's handler it refuses
// duplicate keys and documents over the value budget (a scalar counts 1, an object or array 8)
// as they are read: the budget bounds what is kept, and what is kept stays the same for the
// same text whatever the handler.
class InventoryHandler final : public Poco::JSON::Handler {
  public:
    InventoryHandler(RawInventory& out, std::size_t max_units) : out_(out), max_units_(max_units) {}

    void reset() override {}

    void startObject() override {
        count(kContainerWeight);
        const Target t = target();
        if (t.value) t.value->kind = Kind::Object;
        frames_.push_back(t.value ? t.object_frame : Frame::Ignored);
        if (open_objects_ == key_sets_.size()) key_sets_.emplace_back();
        key_sets_[open_objects_++].clear();
    }
    void endObject() override {
        --open_objects_;
        frames_.pop_back();
    }
    void startArray() override {
        count(kContainerWeight);
        const Target t = target();
        if (t.value) t.value->kind = Kind::Array;
        frames_.push_back(t.value ? t.array_frame : Frame::Ignored);
        // A workstation lists 150-300 packages: grown one by one, the list was moved ~9 times.
        if (frames_.back() == Frame::Software) out_.package_list.reserve(kExpectedPackages);
    }
    void endArray() override { frames_.pop_back(); }

    void key(const std::string& k) override {
        if (open_objects_ > 0 && !key_sets_[open_objects_ - 1].insert(k))
            throw Poco::JSON::JSONException("duplicate key \"" + k + "\"");
        switch (frames_.back()) {
            case Frame::Report:
                report_field_ = report_field(k);
                if (report_field_ == ReportField::Unknown)
                    note_unknown(out_.has_unknown, out_.first_unknown, k);
                break;
            case Frame::Facts:
                out_.fact_list.push_back({k, {}});
                break;
            case Frame::Package:
                if (k == "name") {
                    package_field_ = PackageField::Name;
                } else if (k == "version") {
                    package_field_ = PackageField::Version;
                } else {
                    package_field_ = PackageField::Unknown;
                    RawPackage& package = out_.package_list.back();
                    note_unknown(package.has_unknown, package.first_unknown, k);
                }
                break;
            default:
                break;
        }
    }

    void null() override {
        if (RawValue* v = scalar()) v->kind = Kind::Null;
    }
    void value(int v) override { integer(v); }
    void value(unsigned v) override { integer(v); }
    void value(Poco::Int64 v) override { integer(v); }
    void value(Poco::UInt64 v) override {
        if (v <= static_cast<Poco::UInt64>(std::numeric_limits<std::int64_t>::max())) {
            integer(static_cast<std::int64_t>(v));
            return;
        }
        if (RawValue* t = scalar()) {
            t->kind = Kind::Unsigned;
            t->number = static_cast<double>(v);
        }
    }
    void value(double v) override {
        if (RawValue* t = scalar()) {
            t->kind = Kind::Real;
            t->number = v;
        }
    }
    void value(bool v) override {
        if (RawValue* t = scalar()) {
            t->kind = Kind::Boolean;
            t->boolean = v;
        }
    }
    void value(const std::string& v) override {
        if (RawValue* t = scalar()) {
            t->kind = Kind::Text;
            t->text = v;
        }
    }

  private:
    // What an open container is to the report; Ignored: kept out of it (an unknown field's
    // value, a fact that is an object), read only for the budget and duplicate keys.
    enum class Frame : std::uint8_t {
        Report,
        Facts,
        Software,
        Package,
        RemovedFacts,
        RemovedSoftware,
        Ignored,
    };
    enum class ReportField : std::uint8_t {
        Full,
        Seq,
        Base,
        Facts,
        Software,
        RemovedFacts,
        RemovedSoftware,
        Unknown,
    };
    enum class PackageField : std::uint8_t { Name, Version, Unknown };

    // Where the value about to be read goes (none when it is ignored), and which frame it
    // opens if it is an object or an array.
    struct Target {
        RawValue* value = nullptr;
        Frame object_frame = Frame::Ignored;
        Frame array_frame = Frame::Ignored;
    };

    static ReportField report_field(const std::string& k) {
        if (k == "full") return ReportField::Full;
        if (k == "seq") return ReportField::Seq;
        if (k == "base") return ReportField::Base;
        if (k == "facts") return ReportField::Facts;
        if (k == "software") return ReportField::Software;
        if (k == "removed_facts") return ReportField::RemovedFacts;
        if (k == "removed_software") return ReportField::RemovedSoftware;
        return ReportField::Unknown;
    }

    Target target() {
        if (frames_.empty()) return {&out_.root, Frame::Report, Frame::Ignored};
        switch (frames_.back()) {
            case Frame::Report:
                switch (report_field_) {
                    case ReportField::Full:
                        return {&out_.full};
                    case ReportField::Seq:
                        return {&out_.seq};
                    case ReportField::Base:
                        return {&out_.base};
                    case ReportField::Facts:
                        return {&out_.facts, Frame::Facts, Frame::Ignored};
                    case ReportField::Software:
                        return {&out_.software, Frame::Ignored, Frame::Software};
                    case ReportField::RemovedFacts:
                        return {&out_.removed_facts, Frame::Ignored, Frame::RemovedFacts};
                    case ReportField::RemovedSoftware:
                        return {&out_.removed_software, Frame::Ignored, Frame::RemovedSoftware};
                    case ReportField::Unknown:
                        return {};
                }
                return {};
            case Frame::Facts:
                return {&out_.fact_list.back().value};
            case Frame::Software:
                out_.package_list.emplace_back();
                return {&out_.package_list.back().self, Frame::Package, Frame::Ignored};
            case Frame::Package:
                switch (package_field_) {
                    case PackageField::Name:
                        return {&out_.package_list.back().name};
                    case PackageField::Version:
                        return {&out_.package_list.back().version};
                    case PackageField::Unknown:
                        return {};
                }
                return {};
            case Frame::RemovedFacts:
                return {&out_.removed_fact_list.emplace_back()};
            case Frame::RemovedSoftware:
                return {&out_.removed_software_list.emplace_back()};
            case Frame::Ignored:
                return {};
        }
        return {};
    }

    // Where a scalar goes. A scalar at the top level is refused as soon as it is read, with the
    // words Poco's tree builder used (before any text that follows it is looked at).
    RawValue* scalar() {
        count();
        if (frames_.empty())
            throw Poco::JSON::JSONException("Attempt to set value on an empty stack");
        return target().value;
    }

    void integer(std::int64_t v) {
        if (RawValue* t = scalar()) {
            t->kind = Kind::Integer;
            t->integer = v;
            t->number = static_cast<double>(v);
        }
    }

    // An object or array costs a tree-building parser several times what a scalar does; the
    // same weights as json::parse_object, so that the same texts are refused.
    static constexpr std::size_t kContainerWeight = 8;
    static constexpr std::size_t kExpectedPackages = 320;

    void count(std::size_t weight = 1) {
        units_ += weight;
        if (units_ > max_units_) {
            throw Poco::JSON::JSONException("more than " + std::to_string(max_units_) +
                                            " value units (objects and arrays count 8)");
        }
    }

    RawInventory& out_;
    std::size_t max_units_;
    std::size_t units_ = 0;
    std::vector<Frame> frames_;
    std::vector<KeySet> key_sets_;  // one per open object, reused
    std::size_t open_objects_ = 0;
    ReportField report_field_ = ReportField::Unknown;
    PackageField package_field_ = PackageField::Unknown;
};

[[noreturn]] void fail(const std::string& field, const std::string& what,
                       ErrorCode code = ErrorCode::InvalidInput) {
    throw Error(code, "inventory: field \"" + field + "\": " + what);
}

bool read_boolean(const RawValue& v, const char* field, bool required, bool fallback) {
    if (!v.present()) {
        if (required) fail(field, "is required");
        return fallback;
    }
    if (v.kind != Kind::Boolean) fail(field, "must be true or false");
    return v.boolean;
}

std::int64_t read_integer(const RawValue& v, const char* field, bool required, std::int64_t min,
                          std::int64_t max) {
    if (!v.present()) {
        if (required) fail(field, "is required");
        return 0;
    }
    if (v.kind == Kind::Unsigned) fail(field, "integer out of range");
    if (v.kind != Kind::Integer) fail(field, "must be an integer");
    if (v.integer < min || v.integer > max)
        fail(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return v.integer;
}

// "software[i]" and, with `member`, "software[i].member": built only for an error, as a report
// names hundreds of packages.
std::string package_field(std::size_t i, const char* member = nullptr) {
    std::string field = "software[" + std::to_string(i) + "]";
    if (member) field += std::string(".") + member;
    return field;
}

// A package's name or version (`member` of package `i`): a printable string of at most
// `max_bytes`.
std::string read_string(RawValue& v, std::size_t i, const char* member, bool required,
                        std::size_t max_bytes) {
    if (!v.present()) {
        if (required) fail(package_field(i, member), "is required");
        return "";
    }
    if (v.kind != Kind::Text) fail(package_field(i, member), "must be a string");
    if (v.text.size() > max_bytes)
        fail(package_field(i, member), "longer than " + std::to_string(max_bytes) + " bytes");
    if (required && v.text.empty()) fail(package_field(i, member), "must not be empty");
    if (!json::is_printable(v.text)) fail(package_field(i, member), "contains control characters");
    return std::move(v.text);
}

// A fact's text: strings as sent, numbers without a needless ".0" so `==` on text works too.
std::string number_text(double value) {
    if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
        return std::to_string(static_cast<long long>(value));
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}

std::vector<Fact> read_facts(RawInventory& raw) {
    std::vector<Fact> facts;
    if (!raw.facts.present()) return facts;
    if (raw.facts.kind != Kind::Object) fail("facts", "must be an object");
    if (raw.fact_list.size() > kMaxFacts)
        fail("facts", "more than " + std::to_string(kMaxFacts) + " facts",
             ErrorCode::LimitExceeded);
    // In key order, as they were listed (and checked) when read from an object tree.
    std::sort(raw.fact_list.begin(), raw.fact_list.end(),
              [](const RawFact& a, const RawFact& b) { return a.key < b.key; });
    facts.reserve(raw.fact_list.size());
    for (auto& [key, value] : raw.fact_list) {
        Fact fact{std::move(key), "", std::nullopt};
        if (value.kind == Kind::Text) {
            if (value.text.size() > 1024 || !json::is_printable(value.text))
                fail("facts." + fact.key.substr(0, 64), "at most 1024 printable characters");
            fact.text = std::move(value.text);
        } else if (value.numeric()) {
            fact.number = value.number;
            fact.text = number_text(value.number);
        } else if (value.kind == Kind::Boolean) {
            fact.text = value.boolean ? "true" : "false";
        } else {
            fail("facts." + fact.key.substr(0, 64), "must be a string, number or boolean");
        }
        facts.push_back(std::move(fact));
    }
    return facts;
}

std::vector<Software> read_software(RawInventory& raw) {
    std::vector<Software> software;
    if (!raw.software.present()) return software;
    if (raw.software.kind != Kind::Array) fail("software", "must be an array");
    if (raw.package_list.size() > kMaxSoftware)
        fail("software", "more than " + std::to_string(kMaxSoftware) + " packages",
             ErrorCode::LimitExceeded);
    software.reserve(raw.package_list.size());
    for (std::size_t i = 0; i < raw.package_list.size(); ++i) {
        RawPackage& package = raw.package_list[i];
        if (package.self.kind != Kind::Object) fail(package_field(i), "must be an object");
        if (package.has_unknown)
            fail(package_field(i, package.first_unknown.c_str()), "unknown field");
        std::string name = read_string(package.name, i, "name", true, 256);
        software.push_back(
            {std::move(name), read_string(package.version, i, "version", false, 256)});
    }
    return software;
}

// removed_facts / removed_software: at most `max_items` printable strings of at most
// `max_bytes`. The position is named after the quoted field ("removed_facts"[2]), as before.
std::vector<std::string> read_strings(const RawValue& list, std::vector<RawValue>& items,
                                      const char* field, std::size_t max_items,
                                      std::size_t max_bytes) {
    std::vector<std::string> out;
    if (!list.present()) return out;
    if (list.kind != Kind::Array) fail(field, "must be an array");
    if (items.size() > max_items) fail(field, "at most " + std::to_string(max_items) + " items");
    out.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string position =
            "inventory: field \"" + std::string(field) + "\"[" + std::to_string(i) + "]";
        if (items[i].kind != Kind::Text)
            throw Error(ErrorCode::InvalidInput, position + ": must be a string");
        if (items[i].text.size() > max_bytes || !json::is_printable(items[i].text)) {
            throw Error(
                ErrorCode::InvalidInput,
                position + ": must be at most " + std::to_string(max_bytes) + " printable bytes");
        }
        out.push_back(std::move(items[i].text));
    }
    return out;
}

}  // namespace

Inventory inventory_from_json(const std::string& body) {
    constexpr std::size_t kBudget = 8 * kMaxSoftware + 4 * kMaxFacts + 64;
    RawInventory raw;
    bool read = false;
    try {
        InventoryHandler handler(raw, kBudget);
        read = read_plain_json(body, handler);
    } catch (const Poco::JSON::JSONException&) {
        // A refusal of the handler's (a duplicate key, the budget): Poco's parser, below, meets
        // it again at the same point, unless a syntax error comes first in its reading.
    }
    if (!read) {
        // Anything the quick reader does not take: Poco's parser reads it or says what is wrong.
        raw = RawInventory{};
        // The parser owns its handler (a Poco::SharedPtr); `raw` outlives both.
        Poco::JSON::Parser parser(new InventoryHandler(raw, kBudget));
        try {
            parser.parse(body);
        } catch (const Poco::Exception& e) {
            throw Error(ErrorCode::InvalidInput, "inventory: invalid JSON: " + e.message());
        }
    }
    if (raw.root.kind != Kind::Object)
        throw Error(ErrorCode::InvalidInput, "inventory: the top level must be a JSON object");
    if (raw.has_unknown) fail(raw.first_unknown, "unknown field");
    Inventory inventory;
    inventory.full = read_boolean(raw.full, "full", true, false);
    inventory.seq = read_integer(raw.seq, "seq", true, 1, INT64_MAX / 2);
    inventory.base = read_integer(raw.base, "base", !inventory.full, 0, INT64_MAX / 2);
    inventory.facts = read_facts(raw);
    inventory.software = read_software(raw);
    inventory.removed_facts =
        read_strings(raw.removed_facts, raw.removed_fact_list, "removed_facts", kMaxFacts, 64);
    inventory.removed_software = read_strings(raw.removed_software, raw.removed_software_list,
                                              "removed_software", kMaxSoftware, 256);
    if (inventory.full && (!inventory.removed_facts.empty() || !inventory.removed_software.empty()))
        throw Error(ErrorCode::InvalidInput,
                    "inventory: field \"removed_facts\"/\"removed_software\": only in a change "
                    "report (full: false)");
    return inventory;
}

}  // namespace ferry::server
