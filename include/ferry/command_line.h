// A small command-line parser for the subcommands of ferry-pack, ferryctl and ferry-agent:
// named options with or without a value, and positional arguments. Unknown options and missing
// values are usage errors.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace ferry {

// Thrown for a malformed command line; a program's main prints it with the usage, exit 2.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct OptionSpec {
    std::string name;   // "--key"
    std::string alias;  // "-k" or empty
    bool takes_value = false;
};

// The whole number `text` given to `option`, within [min, max]; UsageError naming the option,
// what was given and the range otherwise ("--interval \"5x\": expected a whole number from 1
// to 86400").
long long whole_number(const std::string& option, const std::string& text, long long min,
                       long long max);

class CommandLine {
  public:
    // Parses argv[first..argc). `positional` is the exact number of positional arguments.
    CommandLine(int argc, char** argv, int first, const std::vector<OptionSpec>& options,
                std::size_t positional);

    bool help() const { return help_; }
    bool flag(const std::string& name) const { return flags_.count(name) != 0; }
    std::optional<std::string> value(const std::string& name) const;
    std::string required(const std::string& name) const;
    const std::vector<std::string>& positional() const { return positional_; }

  private:
    bool help_ = false;
    std::set<std::string> flags_;
    std::map<std::string, std::string> values_;
    std::vector<std::string> positional_;
};

}  // namespace ferry
