/// A sequence of NetworkManager events that ends with ``NMError`` only: the signal sequences
/// of the DBus module end with `DBusError` (`peer-vanished` when NetworkManager leaves the
/// bus, `disconnected`, `buffer-overflow`), which this converts at the module's boundary
/// (``NMError/init(wrapping:operation:)``). Elements the transform maps to nil are skipped.
///
/// Callers see it as `some AsyncSequence<Element, NMError>`.
struct NMEventSequence<Base: AsyncSequence, Element>: AsyncSequence {
    typealias Failure = NMError
    let base: Base
    let transform: @Sendable (Base.Element) async -> Element?

    struct AsyncIterator: AsyncIteratorProtocol {
        typealias Failure = NMError
        var base: Base.AsyncIterator
        let transform: @Sendable (Base.Element) async -> Element?

        mutating func next() async throws(NMError) -> Element? {
            do {
                while let value = try await base.next() {
                    if let element = await transform(value) { return element }
                }
                return nil
            } catch {
                throw NMError(wrapping: error)
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), transform: transform) }
}
