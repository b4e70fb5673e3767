// Reading a secret key's password: from the terminal without echo, or, when stdin is not a
// terminal (scripts, tests), one line from stdin.
#pragma once

#include <string>

namespace ferry::pack {

std::string read_password(const std::string& prompt);

// Asks twice on a terminal and refuses a mismatch or an empty password.
std::string read_new_password();

}  // namespace ferry::pack
