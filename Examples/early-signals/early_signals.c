#define _GNU_SOURCE
// Catches SIGINT, SIGTERM and SIGHUP from the moment the program is loaded, before the Swift
// runtime and `main` run: a constructor installs a handler that records the first signal and
// writes each one's number into a pipe. The handler stays for the process's life; bridgeify's
// `Interruption.install()` reads the pipe from a thread of its own. No other handler ever takes
// over, so there is no moment in which a signal could be ignored or lost (an earlier version
// handed over to dispatch sources after setting SIG_IGN, and a SIGTERM in between was lost).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "early_signals.h"

static volatile sig_atomic_t first_signal = 0;
static int wake_pipe[2] = {-1, -1};

static void record_signal(int number) {
    int saved = errno;
    if (first_signal == 0) first_signal = number;
    if (wake_pipe[1] >= 0) {
        unsigned char byte = (unsigned char)number;
        ssize_t ignored = write(wake_pipe[1], &byte, 1);  // non-blocking: a full pipe drops a repeat
        (void)ignored;
    }
    errno = saved;
}

__attribute__((constructor)) static void install_early_handlers(void) {
    if (pipe2(wake_pipe, O_CLOEXEC) == 0) {
        fcntl(wake_pipe[1], F_SETFL, fcntl(wake_pipe[1], F_GETFL) | O_NONBLOCK);
    } else {
        wake_pipe[0] = wake_pipe[1] = -1;
    }
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

int early_signal_has_pipe(void) { return wake_pipe[0] >= 0; }

int early_signal_wait(void) {
    if (wake_pipe[0] < 0) return -1;
    for (;;) {
        unsigned char byte;
        ssize_t n = read(wake_pipe[0], &byte, 1);
        if (n == 1) return byte;
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
}
