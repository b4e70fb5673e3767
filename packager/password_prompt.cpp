#include "password_prompt.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "ferry/error.h"
#include "ferry/secure_buffer.h"

namespace ferry::pack {
namespace {

std::string read_line_without_echo() {
    termios saved{};
    const bool tty = ::isatty(STDIN_FILENO) == 1 && ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::string line;
    const bool ok = static_cast<bool>(std::getline(std::cin, line));
    if (tty) {
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        std::cerr << "\n";
    }
    if (!ok) throw Error(ErrorCode::InvalidInput, "no password given (end of input)");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

}  // namespace

std::string read_password(const std::string& prompt) {
    if (::isatty(STDIN_FILENO) == 1) std::cerr << prompt << std::flush;
    return read_line_without_echo();
}

std::string read_new_password() {
    std::string first = read_password("Password: ");
    if (first.empty()) throw Error(ErrorCode::InvalidInput, "the password must not be empty");
    if (::isatty(STDIN_FILENO) == 1) {
        std::string again = read_password("Password (one more time): ");
        const bool same = again == first;
        wipe(again);
        if (!same) {
            wipe(first);
            throw Error(ErrorCode::InvalidInput, "the passwords do not match");
        }
    }
    return first;
}

}  // namespace ferry::pack
