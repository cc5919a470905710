import NetworkManager

// The types that `import NetworkManager` re-exports besides the DBus module's, named once each:
// this compiles only while they are re-exported (docs/decisions/0006-import-networkmanager-is-enough.md).

/// A profile's UUID from a command line argument (`FoundationEssentials.UUID`), nil unless valid.
public func profileUUID(_ text: String) -> UUID? { UUID(uuidString: text) }

/// When a pending transaction reverts by itself, in seconds from `now` (`Date`).
public func secondsUntilRevert(_ pending: NMPendingTransaction, now: Date = Date()) -> Double? {
    pending.revertsAt.map { $0.timeIntervalSince(now) }
}

/// A checkpoint error's hint with the expiry in `zone` (`TimeZone`), as bridgeify prints it.
public func withExpiry(_ error: NMError, _ expiry: Date, in zone: TimeZone) -> NMError {
    error.withCheckpointExpiry(expiry, timeZone: zone)
}
