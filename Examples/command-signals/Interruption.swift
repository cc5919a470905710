// The signal handling bridgeify and netstate share (docs/bridgeify.md, "Signals"): one
// module both commands link, so that the two behave the same and the code exists once.
import CEarlySignals
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGHUP, caught from the first instruction of `main` to the end, so
/// that there is no moment at which one kills the command without a report: the first signal is
/// recorded and cancels the command's task. Before the change starts that ends the command
/// with "rejected, nothing was changed"; during it the library rolls back at once (instead of
/// NetworkManager doing it when the checkpoint times out), or finishes a commit that has begun.
/// SIGHUP matters most: it is what a process gets when its SSH session drops.
public final class Interruption: Sendable {
    /// The process's one instance.
    public static let shared = Interruption()
    /// The signals taken over: SIGINT, SIGTERM, SIGHUP.
    public static let numbers: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    private struct State {
        var signal: Int32?
        var cancel: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())
    /// The dispatch sources, kept alive for the process's life (set once, in `install`).
    nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

    /// Takes the signals over. Call it first thing in `main`; `name` names the thread that
    /// reads them (`bridgeify` gives `bridgeify-signals`).
    ///
    /// The handlers CEarlySignals installed when the program was loaded stay installed: each
    /// signal is recorded and its number written into a pipe, which a thread of this class reads.
    /// Nothing replaces them, so no signal falls into a gap between two handlers.
    public func install(name: String) {
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
            reader.name = "\(name)-signals"
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
    public func onSignal(_ cancel: @escaping @Sendable () -> Void) {
        let already = state.withLock { state -> Bool in
            state.cancel = cancel
            return state.signal != nil
        }
        if already { cancel() }
    }

    /// The first signal received, if any.
    public var signal: Int32? { state.withLock { $0.signal } }

    /// `SIGTERM`, ..., for messages.
    public var signalName: String? {
        signal.map { [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"][$0] ?? "signal \($0)" }
    }
}
