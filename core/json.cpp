#include "ferry/json.h"

#include <Poco/Exception.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <set>

#include "ferry/error.h"

namespace ferry::json {
namespace {

// A ParseHandler that refuses an object naming the same key twice.
class DuplicateKeyGuard : public Poco::JSON::ParseHandler {
public:
    void startObject() override {
        keys_.emplace_back();
        ParseHandler::startObject();
    }
    void endObject() override {
        keys_.pop_back();
        ParseHandler::endObject();
    }
    void key(const std::string& k) override {
        if (!keys_.empty() && !keys_.back().insert(k).second) {
            throw Poco::JSON::JSONException("duplicate key \"" + k + "\"");
        }
        ParseHandler::key(k);
    }

private:
    std::vector<std::set<std::string>> keys_;
};

}  // namespace

Poco::JSON::Object::Ptr parse_object(const std::string& text, const std::string& source) {
    Poco::JSON::Parser parser(new DuplicateKeyGuard);
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

std::string FieldReader::string(const std::string& field, bool required, std::size_t max_bytes) const {
    if (!has(field)) {
        if (required) throw Error(ErrorCode::InvalidInput, where(field) + ": is required");
        return {};
    }
    const Poco::Dynamic::Var value = object_->get(field);
    if (!value.isString()) throw Error(ErrorCode::InvalidInput, where(field) + ": must be a string");
    std::string text = value.extract<std::string>();
    if (text.size() > max_bytes) {
        throw Error(ErrorCode::InvalidInput,
                    where(field) + ": longer than " + std::to_string(max_bytes) + " bytes");
    }
    if (!is_printable(text)) {
        throw Error(ErrorCode::InvalidInput, where(field) + ": contains control characters");
    }
    if (required && text.empty()) throw Error(ErrorCode::InvalidInput, where(field) + ": must not be empty");
    return text;
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
                                                 std::to_string(min) + " and " + std::to_string(max));
    }
    return n;
}

bool FieldReader::boolean(const std::string& field, bool required, bool fallback) const {
    if (!has(field)) {
        if (required) throw Error(ErrorCode::InvalidInput, where(field) + ": is required");
        return fallback;
    }
    const Poco::Dynamic::Var value = object_->get(field);
    if (!value.isBoolean()) throw Error(ErrorCode::InvalidInput, where(field) + ": must be true or false");
    return value.extract<bool>();
}

Poco::JSON::Array::Ptr FieldReader::array(const std::string& field, bool required) const {
    if (!has(field)) {
        if (required) throw Error(ErrorCode::InvalidInput, where(field) + ": is required");
        return nullptr;
    }
    if (!object_->isArray(field)) throw Error(ErrorCode::InvalidInput, where(field) + ": must be an array");
    return object_->getArray(field);
}

Poco::JSON::Object::Ptr FieldReader::object(const std::string& field, bool required) const {
    if (!has(field)) {
        if (required) throw Error(ErrorCode::InvalidInput, where(field) + ": is required");
        return nullptr;
    }
    if (!object_->isObject(field)) throw Error(ErrorCode::InvalidInput, where(field) + ": must be an object");
    return object_->getObject(field);
}

}  // namespace ferry::json
