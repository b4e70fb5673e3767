#include "ferry/json.h"

#include <Poco/Exception.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <set>

#include "ferry/error.h"

namespace ferry::json {
namespace {

// A ParseHandler that refuses an object naming the same key twice, and a document with more
// values than the budget: Poco builds a full object tree, and a few KiB of compressed "[{},{},…]"
// would otherwise cost gigabytes.
class GuardedHandler : public Poco::JSON::ParseHandler {
  public:
    explicit GuardedHandler(std::size_t max_values) : max_values_(max_values) {}

    void startObject() override {
        count(kContainerWeight);
        keys_.emplace_back();
        ParseHandler::startObject();
    }
    void endObject() override {
        keys_.pop_back();
        ParseHandler::endObject();
    }
    void startArray() override {
        count(kContainerWeight);
        ParseHandler::startArray();
    }
    void key(const std::string& k) override {
        if (!keys_.empty() && !keys_.back().insert(k).second) {
            throw Poco::JSON::JSONException("duplicate key \"" + k + "\"");
        }
        ParseHandler::key(k);
    }
    void null() override { count(), ParseHandler::null(); }
    void value(int v) override { count(), ParseHandler::value(v); }
    void value(unsigned v) override { count(), ParseHandler::value(v); }
    void value(Poco::Int64 v) override { count(), ParseHandler::value(v); }
    void value(Poco::UInt64 v) override { count(), ParseHandler::value(v); }
    void value(const std::string& v) override { count(), ParseHandler::value(v); }
    void value(double v) override { count(), ParseHandler::value(v); }
    void value(bool v) override { count(), ParseHandler::value(v); }

  private:
    // An object or array costs Poco several times what a scalar does.
    static constexpr std::size_t kContainerWeight = 8;

    void count(std::size_t weight = 1) {
        values_ += weight;
        if (values_ > max_values_) {
            throw Poco::JSON::JSONException("more than " + std::to_string(max_values_) +
                                            " value units (objects and arrays count 8)");
        }
    }

    std::vector<std::set<std::string>> keys_;
    std::size_t max_values_;
    std::size_t values_ = 0;
};

}  // namespace

Poco::JSON::Object::Ptr parse_object(const std::string& text, const std::string& source,
                                     std::size_t max_values) {
    Poco::JSON::Parser parser(new GuardedHandler(max_values));
    Poco::Dynamic::Var value;
    try {
        value = parser.parse(text);
    } catch (const Poco::Exception& e) {
        throw Error(ErrorCode::InvalidInput, source + ": invalid JSON: " + e.message());
    }
    if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
        throw Error(ErrorCode::InvalidInput, source + ": the top level must be a JSON object");
    }
    return value.extract<Poco::JSON::Object::Ptr>();
}

bool is_printable(const std::string& text, bool allow_tab) {
    return std::none_of(text.begin(), text.end(), [allow_tab](char c) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\t') return !allow_tab;
        return u < 0x20 || u == 0x7f;
    });
}

FieldReader::FieldReader(Poco::JSON::Object::Ptr object, std::string source, std::string prefix)
    : object_(std::move(object)), source_(std::move(source)), prefix_(std::move(prefix)) {}

std::string FieldReader::where(const std::string& field) const {
    return source_ + ": field \"" + prefix_ + field + "\"";
}

bool FieldReader::has(const std::string& field) const {
    return object_->has(field) && !object_->isNull(field);
}

void FieldReader::allow_only(const std::vector<std::string>& allowed) const {
    for (const auto& [key, value] : *object_) {
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            throw Error(ErrorCode::InvalidInput, where(key) + ": unknown field");
        }
    }
}

std::optional<std::string> FieldReader::text(const std::string& field, bool required,
                                             std::size_t max_bytes) const {
    if (!has(field)) {
        if (required) throw Error(ErrorCode::InvalidInput, where(field) + ": is required");
        return std::nullopt;
    }
    const Poco::Dynamic::Var value = object_->get(field);
    if (!value.isString())
        throw Error(ErrorCode::InvalidInput, where(field) + ": must be a string");
    std::string text = value.extract<std::string>();
    if (text.size() > max_bytes) {
        throw Error(ErrorCode::InvalidInput,
                    where(field) + ": longer than " + std::to_string(max_bytes) + " bytes");
    }
    if (required && text.empty())
        throw Error(ErrorCode::InvalidInput, where(field) + ": must not be empty");
    return text;
}

std::string FieldReader::string(const std::string& field, bool required,
                                std::size_t max_bytes) const {
    std::string value = text(field, required, max_bytes).value_or("");
    if (!is_printable(value)) {
        throw Error(ErrorCode::InvalidInput, where(field) + ": contains control characters");
    }
    return value;
}

std::string FieldReader::multiline_string(const std::string& field, bool required,
                                          std::size_t max_bytes) const {
    std::string value = text(field, required, max_bytes).value_or("");
    std::string without_breaks = value;
    std::replace(without_breaks.begin(), without_breaks.end(), '\n', ' ');
    if (!is_printable(without_breaks, true)) {
        throw Error(ErrorCode::InvalidInput, where(field) + ": contains control characters");
    }
    return value;
}

std::int64_t FieldReader::integer(const std::string& field, bool required, std::int64_t min,
                                  std::int64_t max, std::int64_t fallback) const {
    if (!has(field)) {
        if (required) throw Error(ErrorCode::InvalidInput, where(field) + ": is required");
        return fallback;
    }
    const Poco::Dynamic::Var value = object_->get(field);
    if (!value.isInteger() || value.isBoolean()) {
        throw Error(ErrorCode::InvalidInput, where(field) + ": must be an integer");
    }
    std::int64_t n = 0;
    try {
        n = value.convert<std::int64_t>();
    } catch (const Poco::Exception&) {
        throw Error(ErrorCode::InvalidInput, where(field) + ": integer out of range");
    }
    if (n < min || n > max) {
        throw Error(ErrorCode::InvalidInput, where(field) + ": must be between " +
                                                 std::to_string(min) + " and " +
                                                 std::to_string(max));
    }
    return n;
}

bool FieldReader::boolean(const std::string& field, bool required, bool fallback) const {
    if (!has(field)) {
        if (required) throw Error(ErrorCode::InvalidInput, where(field) + ": is required");
        return fallback;
    }
    const Poco::Dynamic::Var value = object_->get(field);
    if (!value.isBoolean())
        throw Error(ErrorCode::InvalidInput, where(field) + ": must be true or false");
    return value.extract<bool>();
}

Poco::JSON::Array::Ptr FieldReader::array(const std::string& field, bool required) const {
    if (!has(field)) {
        if (required) throw Error(ErrorCode::InvalidInput, where(field) + ": is required");
        return nullptr;
    }
    if (!object_->isArray(field))
        throw Error(ErrorCode::InvalidInput, where(field) + ": must be an array");
    return object_->getArray(field);
}

std::vector<std::string> FieldReader::strings(const std::string& field, bool required,
                                              std::size_t max_items, std::size_t max_bytes) const {
    std::vector<std::string> out;
    const auto list = array(field, required);
    if (!list) return out;
    if (list->size() > max_items) {
        throw Error(ErrorCode::InvalidInput,
                    where(field) + ": at most " + std::to_string(max_items) + " items");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto value = list->get(static_cast<unsigned>(i));
        const std::string position = where(field) + "[" + std::to_string(i) + "]";
        if (!value.isString())
            throw Error(ErrorCode::InvalidInput, position + ": must be a string");
        std::string text = value.extract<std::string>();
        if (text.size() > max_bytes || !is_printable(text)) {
            throw Error(
                ErrorCode::InvalidInput,
                position + ": must be at most " + std::to_string(max_bytes) + " printable bytes");
        }
        out.push_back(std::move(text));
    }
    return out;
}

Poco::JSON::Object::Ptr FieldReader::object(const std::string& field, bool required) const {
    if (!has(field)) {
        if (required) throw Error(ErrorCode::InvalidInput, where(field) + ": is required");
        return nullptr;
    }
    if (!object_->isObject(field))
        throw Error(ErrorCode::InvalidInput, where(field) + ": must be an object");
    return object_->getObject(field);
}

}  // namespace ferry::json
