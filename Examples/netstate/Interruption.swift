// SIGINT, SIGTERM and SIGHUP, handled as bridgeify handles them (docs/bridgeify.md,
// "Signals"): caught from the program's load on (CEarlySignals' constructor), the first one
// recorded and turned into a cancellation of the command's task. Before the change starts the
// run ends `rejected` (code `interrupted`, nothing changed); during it the library rolls back
// at once; a commit that has begun is finished. Every run ends with its report.
//
// A copy of bridgeify's `Interruption` (Examples/bridgeify/Report.swift): two executables
// cannot share a type without a module both link; docs/netstate.md lists factoring the CLI
// plumbing as later work.
import Foundation
import Synchronization
import CEarlySignals

#if canImport(Glibc)
import Glibc
#endif

final class Interruption: Sendable {
    static let shared = Interruption()
    static let numbers: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    private struct State {
        var signal: Int32?
        var cancel: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())
    /// The dispatch sources, kept alive for the process's life (set once, in `install`).
    nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

    /// Takes the signals over. Call it first thing in `main`.
    ///
    /// The handlers CEarlySignals installed when the program was loaded stay installed: each
    /// signal is recorded and its number written into a pipe, which a thread of this class reads.
    /// Nothing replaces them, so no signal falls into a gap between two handlers.
    func install() {
        // A vanished terminal must not kill the process half way with SIGPIPE either.
        Glibc.signal(SIGPIPE, SIG_IGN)
        if early_signal_has_pipe() != 0 {
            let reader = Thread { [self] in
                while true {
                    let number = early_signal_wait()
                    guard number > 0 else { return }
                    self.received(Int32(number))
                }
            }
            reader.name = "netstate-signals"
            reader.start()
        } else {
            // No pipe (out of file descriptors at load): dispatch sources, as a fallback.
            sources = Self.numbers.map { number -> any DispatchSourceSignal in
                Glibc.signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [self] in self.received(number) }
                source.resume()
                return source
            }
        }
        // A signal that came before (also in the pipe: `received` takes the first only once).
        let early = early_signal_received()
        if early != 0 { received(early) }
    }

    private func received(_ number: Int32) {
        let cancel = state.withLock { state -> (@Sendable () -> Void)? in
            guard state.signal == nil else { return nil }
            state.signal = number
            return state.cancel
        }
        cancel?()
    }

    /// What a signal cancels: the command's task. Called at once if a signal came already.
    func onSignal(_ cancel: @escaping @Sendable () -> Void) {
        let already = state.withLock { state -> Bool in
            state.cancel = cancel
            return state.signal != nil
        }
        if already { cancel() }
    }

    /// The first signal received, if any.
    var signal: Int32? { state.withLock { $0.signal } }

    /// `SIGTERM`, ..., for messages.
    var signalName: String? {
        signal.map { [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"][$0] ?? "signal \($0)" }
    }
}
