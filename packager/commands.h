// ferry-pack's subcommands. Each parses its own arguments (argv[first] onwards) and returns
// the exit code; errors travel as ferry::Error or UsageError to main, which maps them.
#pragma once

namespace ferry::pack {

struct Command {
    const char* name;
    const char* summary;
    const char* usage;  // full --help text
    int (*run)(int argc, char** argv, int first);
};

int run_keygen(int argc, char** argv, int first);
int run_build(int argc, char** argv, int first);
int run_sign(int argc, char** argv, int first);
int run_verify(int argc, char** argv, int first);
int run_inspect(int argc, char** argv, int first);
int run_push(int argc, char** argv, int first);

extern const Command kCommands[];
extern const int kCommandCount;

// Prints the usage of `name` and returns 0: what every subcommand does with --help.
int print_help(const char* name);

}  // namespace ferry::pack
