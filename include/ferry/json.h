// Strict JSON parsing on top of Poco::JSON for documents that cross a trust boundary.
//
// Poco's parser keeps the last of two duplicate keys silently; two readers of one document must
// never disagree about what it says, so duplicates are refused here. Poco also builds the
// whole tree in memory, so the number of values is bounded. Errors are
// Error(InvalidInput) naming the source.
#pragma once

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ferry::json {

// Parses a JSON document whose top level must be an object, refusing duplicate keys and
// documents with more than `max_values` value units: a scalar counts 1, an object or array 8
// (what each costs in Poco's tree, roughly), so memory stays proportional to the budget.
Poco::JSON::Object::Ptr parse_object(const std::string& text, const std::string& source,
                                     std::size_t max_values = 100'000);

// Typed field access that names the field in every error ("SOURCE: field "x": must be …").
class FieldReader {
  public:
    FieldReader(Poco::JSON::Object::Ptr object, std::string source, std::string prefix = "");

    bool has(const std::string& field) const;
    // Refuses fields outside `allowed`, so that a typo is an error, not a silent default.
    void allow_only(const std::vector<std::string>& allowed) const;

    std::string string(const std::string& field, bool required, std::size_t max_bytes = 4096) const;
    // A string that may hold line breaks and tabs (a .minisig text), other control characters
    // refused.
    std::string multiline_string(const std::string& field, bool required,
                                 std::size_t max_bytes) const;
    std::int64_t integer(const std::string& field, bool required, std::int64_t min,
                         std::int64_t max, std::int64_t fallback = 0) const;
    bool boolean(const std::string& field, bool required, bool fallback = false) const;
    Poco::JSON::Array::Ptr array(const std::string& field, bool required) const;
    // An array of at most `max_items` printable strings of at most `max_bytes` each; an absent
    // optional field is an empty list.
    std::vector<std::string> strings(const std::string& field, bool required, std::size_t max_items,
                                     std::size_t max_bytes) const;
    Poco::JSON::Object::Ptr object(const std::string& field, bool required) const;

    // "SOURCE: field "prefix.field"" — for callers' own checks.
    std::string where(const std::string& field) const;
    const std::string& source() const { return source_; }

  private:
    // The field's string value, type- and length-checked; nullopt when absent and optional.
    std::optional<std::string> text(const std::string& field, bool required,
                                    std::size_t max_bytes) const;

    Poco::JSON::Object::Ptr object_;
    std::string source_;
    std::string prefix_;
};

// True when `text` has no control characters (tab excluded when `allow_tab`).
bool is_printable(const std::string& text, bool allow_tab = false);

}  // namespace ferry::json
