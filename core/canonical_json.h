// Internal: a writer of canonical JSON — keys given in byte order by the caller, two-space
// indentation, only '"', '\\' and control characters escaped — for documents whose bytes are
// hashed or signed (package manifests, policies). Written by hand rather than through a Poco
// tree: the bytes must not move with a library upgrade, and a tree costs kilobytes per node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ferry {

class CanonicalJson {
  public:
    explicit CanonicalJson(std::string& out) : out_(out) {}

    void begin_object() { open('{'); }
    void end_object() { close('}'); }
    void begin_array() { open('['); }
    void end_array() { close(']'); }

    // Keys must be given in sorted order; the caller lists them so.
    void key(const char* name) {
        separate();
        quote(name);
        out_ += ": ";
        after_key_ = true;
    }
    void string(const std::string& value) {
        separate();
        quote(value);
    }
    void number(std::uint64_t value) {
        separate();
        out_ += std::to_string(value);
    }
    void integer(std::int64_t value) {
        separate();
        out_ += std::to_string(value);
    }
    void boolean(bool value) {
        separate();
        out_ += value ? "true" : "false";
    }

  private:
    void open(char bracket) {
        separate();
        out_ += bracket;
        first_.push_back(true);
    }
    void close(char bracket) {
        const bool empty = first_.back();
        first_.pop_back();
        if (!empty) newline();
        out_ += bracket;
    }
    // Before any value or key: a comma after a sibling, then the line break and indent. A value
    // that follows its key stays on the key's line.
    void separate() {
        if (after_key_) {
            after_key_ = false;
            return;
        }
        if (first_.empty()) return;
        if (!first_.back()) out_ += ',';
        first_.back() = false;
        newline();
    }
    void newline() {
        out_ += '\n';
        out_.append(2 * first_.size(), ' ');
    }
    void quote(const std::string& text) {
        out_ += '"';
        for (char c : text) {
            const auto u = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                out_ += '\\';
                out_ += c;
            } else if (u < 0x20 || u == 0x7f) {
                static const char hex[] = "0123456789abcdef";
                out_ += "\\u00";
                out_ += hex[u >> 4];
                out_ += hex[u & 0xf];
            } else {
                out_ += c;
            }
        }
        out_ += '"';
    }

    std::string& out_;
    std::vector<bool> first_;
    bool after_key_ = false;
};

}  // namespace ferry
