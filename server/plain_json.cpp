#include "plain_json.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>

namespace ferry::server {
namespace {

constexpr int kMaxDepth = 64;
// Up to 18 digits an integer always fits an int64: no overflow check is needed.
constexpr std::ptrdiff_t kMaxIntegerDigits = 18;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_continuation(const char* p) { return (static_cast<unsigned char>(*p) & 0xC0) == 0x80; }

// The length of the well-formed UTF-8 sequence at `p` (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_length(const char* p, const char* end) {
    const auto lead = static_cast<unsigned char>(*p);
    const std::ptrdiff_t left = end - p;
    auto byte = [&](int i) { return static_cast<unsigned char>(p[i]); };
    if (lead >= 0xC2 && lead <= 0xDF) return left >= 2 && is_continuation(p + 1) ? 2 : 0;
    if (lead >= 0xE0 && lead <= 0xEF) {
        if (left < 3 || !is_continuation(p + 1) || !is_continuation(p + 2)) return 0;
        if (lead == 0xE0 && byte(1) < 0xA0) return 0;  // overlong
        if (lead == 0xED && byte(1) > 0x9F) return 0;  // a surrogate
        return 3;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        if (left < 4 || !is_continuation(p + 1) || !is_continuation(p + 2) ||
            !is_continuation(p + 3))
            return 0;
        if (lead == 0xF0 && byte(1) < 0x90) return 0;  // overlong
        if (lead == 0xF4 && byte(1) > 0x8F) return 0;  // above U+10FFFF
        return 4;
    }
    return 0;
}

class PlainJsonReader {
  public:
    PlainJsonReader(std::string_view text, Poco::JSON::Handler& handler)
        : p_(text.data()), end_(text.data() + text.size()), handler_(handler) {}

    bool read() {
        skip_space();
        if (!value(0)) return false;
        skip_space();
        return p_ == end_;
    }

  private:
    void skip_space() {
        while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
    }

    bool at(char c) const { return p_ < end_ && *p_ == c; }

    bool value(int depth) {
        if (p_ == end_) return false;
        switch (*p_) {
            case '{':
                return object(depth + 1);
            case '[':
                return array(depth + 1);
            case '"':
                if (!string(text_)) return false;
                handler_.value(text_);
                return true;
            case 't':
                if (!literal("true")) return false;
                handler_.value(true);
                return true;
            case 'f':
                if (!literal("false")) return false;
                handler_.value(false);
                return true;
            case 'n':
                if (!literal("null")) return false;
                handler_.null();
                return true;
            default:
                return number();
        }
    }

    bool literal(std::string_view word) {
        if (static_cast<std::size_t>(end_ - p_) < word.size() ||
            std::string_view(p_, word.size()) != word)
            return false;
        p_ += word.size();
        return true;
    }

    bool object(int depth) {
        if (depth > kMaxDepth) return false;
        ++p_;
        handler_.startObject();
        const bool read = members('}', [&] {
            if (!at('"') || !string(key_)) return false;
            handler_.key(key_);
            skip_space();
            if (!at(':')) return false;
            ++p_;
            skip_space();
            return value(depth);
        });
        if (!read) return false;
        handler_.endObject();
        return true;
    }

    bool array(int depth) {
        if (depth > kMaxDepth) return false;
        ++p_;
        handler_.startArray();
        if (!members(']', [&] { return value(depth); })) return false;
        handler_.endArray();
        return true;
    }

    // The members of an object or array, after its opening bracket, through `close`: each read
    // by `member` (a key and its value, or a value), separated by commas.
    template <typename Member>
    bool members(char close, Member member) {
        skip_space();
        if (at(close)) {
            ++p_;
            return true;
        }
        for (;;) {
            if (!member()) return false;
            skip_space();
            if (at(',')) {
                ++p_;
                skip_space();
                continue;
            }
            if (!at(close)) return false;
            ++p_;
            return true;
        }
    }

    // A string at the opening quote, into `out`.
    bool string(std::string& out) {
        ++p_;
        out.clear();
        const char* run = p_;  // the start of the bytes not yet copied to `out`
        for (;;) {
            while (p_ < end_) {
                const auto c = static_cast<unsigned char>(*p_);
                if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
                ++p_;
            }
            if (p_ == end_) return false;
            const auto c = static_cast<unsigned char>(*p_);
            if (c == '"') {
                out.append(run, p_);
                ++p_;
                return true;
            }
            if (c < 0x20) return false;
            if (c >= 0x80) {
                const std::size_t length = utf8_length(p_, end_);
                if (length == 0) return false;
                p_ += length;
                continue;
            }
            out.append(run, p_);
            if (end_ - p_ < 2) return false;
            switch (p_[1]) {
                case '"':
                case '\\':
                case '/':
                    out.push_back(p_[1]);
                    break;
                case 'b':
                    out.push_back('\b');
                    break;
                case 'f':
                    out.push_back('\f');
                    break;
                case 'n':
                    out.push_back('\n');
                    break;
                case 'r':
                    out.push_back('\r');
                    break;
                case 't':
                    out.push_back('\t');
                    break;
                default:  // \u, and anything that is not an escape
                    return false;
            }
            p_ += 2;
            run = p_;
        }
    }

    void digits() {
        while (p_ < end_ && is_digit(*p_)) ++p_;
    }

    // A number as JSON writes it: an int64 when it has neither fraction nor exponent (as Poco
    // decides), a double otherwise.
    bool number() {
        const char* start = p_;
        const bool negative = at('-');
        if (negative) ++p_;
        if (p_ == end_ || !is_digit(*p_)) return false;
        if (*p_ == '0')
            ++p_;
        else
            digits();
        const char* integer_end = p_;
        bool real = false;
        if (at('.')) {
            real = true;
            ++p_;
            if (p_ == end_ || !is_digit(*p_)) return false;
            digits();
        }
        if (at('e') || at('E')) {
            real = true;
            ++p_;
            if (at('+') || at('-')) ++p_;
            if (p_ == end_ || !is_digit(*p_)) return false;
            digits();
        }
        if (real) {
            double number = 0;
            const auto [end, error] = std::from_chars(start, p_, number);
            if (error != std::errc() || end != p_) return false;  // out of range: Poco's call
            handler_.value(number);
            return true;
        }
        const char* first = start + (negative ? 1 : 0);
        if (integer_end - first > kMaxIntegerDigits) return false;
        std::int64_t magnitude = 0;
        for (const char* d = first; d < integer_end; ++d) magnitude = magnitude * 10 + (*d - '0');
        handler_.value(static_cast<Poco::Int64>(negative ? -magnitude : magnitude));
        return true;
    }

    const char* p_;
    const char* end_;
    Poco::JSON::Handler& handler_;
    std::string key_, text_;  // reused: each is handed to the handler before the next is read
};

}  // namespace

bool read_plain_json(std::string_view text, Poco::JSON::Handler& handler) {
    return PlainJsonReader(text, handler).read();
}

}  // namespace ferry::server
