#ifndef EARLY_SIGNALS_H
#define EARLY_SIGNALS_H

/// The first SIGINT, SIGTERM or SIGHUP that arrived between the program's load and the moment
/// Swift's `main` took the signals over (0 if none): recorded by handlers that a constructor
/// installs before any Swift code runs, so that no signal kills bridgeify without a report.
int early_signal_received(void);

#endif
