#include "interrupt.h"

#include <csignal>

namespace ferry::pack {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_interrupt(int signal_number) {
    g_interrupted = 1;
    // The next one is not caught: a command that does not reach a progress point can still
    // be stopped.
    std::signal(signal_number, SIG_DFL);
}

}  // namespace

void install_interrupt_handlers() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

void check_interrupted() {
    if (g_interrupted != 0) throw Interrupted();
}

}  // namespace ferry::pack
