// Ctrl-C and SIGTERM for ferry-pack: the first one asks the running command to stop at its
// next progress point, so that it unwinds normally and removes its temporary files (an
// interrupted build leaves no half-written package behind); a second one ends the process.
#pragma once

#include <stdexcept>

namespace ferry::pack {

// Thrown from a progress point after an interrupt; main exits 130 on it.
class Interrupted : public std::runtime_error {
  public:
    Interrupted() : std::runtime_error("interrupted; nothing was written") {}
};

void install_interrupt_handlers();

// Throws Interrupted if a signal arrived.
void check_interrupted();

}  // namespace ferry::pack
