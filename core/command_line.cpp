#include "ferry/command_line.h"

#include <cctype>

namespace ferry {

CommandLine::CommandLine(int argc, char** argv, int first, const std::vector<OptionSpec>& options,
                         std::size_t positional) {
    bool only_positional = false;
    for (int i = first; i < argc; ++i) {
        const std::string arg = argv[i];
        if (only_positional || arg.empty() || arg[0] != '-' || arg == "-") {
            positional_.push_back(arg);
            continue;
        }
        if (arg == "--") {
            only_positional = true;
            continue;
        }
        if (arg == "--help" || arg == "-h") {
            help_ = true;
            continue;
        }
        std::string name = arg;
        std::optional<std::string> inline_value;
        if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            name = arg.substr(0, eq);
            inline_value = arg.substr(eq + 1);
        }
        const OptionSpec* spec = nullptr;
        for (const auto& o : options) {
            if (o.name == name || (!o.alias.empty() && o.alias == name)) spec = &o;
        }
        if (spec == nullptr) throw UsageError("unknown option " + name);
        if (!spec->takes_value) {
            if (inline_value) throw UsageError(spec->name + " takes no value");
            flags_.insert(spec->name);
            continue;
        }
        if (values_.count(spec->name) != 0) throw UsageError(spec->name + " given twice");
        if (inline_value) {
            values_[spec->name] = *inline_value;
        } else {
            if (i + 1 >= argc) throw UsageError(spec->name + " needs a value");
            values_[spec->name] = argv[++i];
        }
    }
    if (!help_ && positional_.size() != positional) {
        throw UsageError("expected " + std::to_string(positional) + " argument" +
                         (positional == 1 ? "" : "s") + ", got " +
                         std::to_string(positional_.size()));
    }
}

std::optional<std::string> CommandLine::value(const std::string& name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::string CommandLine::required(const std::string& name) const {
    const auto v = value(name);
    if (!v) throw UsageError(name + " is required");
    if (v->empty()) throw UsageError(name + " must not be empty");
    return *v;
}

long long whole_number(const std::string& option, const std::string& text, long long min,
                       long long max) {
    std::size_t used = 0;
    long long value = 0;
    const bool plain = !text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) ||
                                         text[0] == '-');  // stoll would skip spaces, take '+'
    try {
        if (plain) value = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (text.empty() || used != text.size() || value < min || value > max)
        throw UsageError(option + " \"" + text + "\": expected a whole number from " +
                         std::to_string(min) + " to " + std::to_string(max));
    return value;
}

}  // namespace ferry
