#ifndef EARLY_SIGNALS_H
#define EARLY_SIGNALS_H

/// The first SIGINT, SIGTERM or SIGHUP since the program was loaded (0 if none): recorded by
/// handlers that a constructor installs before any Swift code runs and that stay installed, so
/// that no signal kills bridgeify without a report and none is lost.
int early_signal_received(void);

/// Whether the handlers could make their wake-up pipe (else only `early_signal_received` works).
int early_signal_has_pipe(void);

/// Blocks until a signal arrives (or one that arrived already is read) and returns its number;
/// -1 when there is no pipe. Each signal received is returned once, in order.
int early_signal_wait(void);

#endif
