// Catches SIGINT, SIGTERM and SIGHUP from the moment the program is loaded, before the Swift
// runtime and `main` run: a constructor installs a handler that only records the first signal.
// bridgeify's `Interruption.install()` then takes the signals over and asks what came before.
#include <signal.h>
#include <string.h>
#include "early_signals.h"

static volatile sig_atomic_t first_signal = 0;

static void record_signal(int number) {
    if (first_signal == 0) first_signal = number;
}

__attribute__((constructor)) static void install_early_handlers(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = record_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGHUP, &action, NULL);
}

int early_signal_received(void) { return first_signal; }
