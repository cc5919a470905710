// `import NetworkManager` is enough for a caller (docs/decisions/0006-reexports.md): the DBus
// module, whose types this module's API shows (`DBusConnection.Options`, `ObjectPath`, the
// `DBusValue`s of unmodelled settings) and which the README's D-Bus example uses, and the few
// FoundationEssentials value types in its signatures, one by one (not the whole of Foundation:
// a caller that wants more imports it, and still gets these same types).
@_exported public import DBus

#if canImport(FoundationEssentials)
    @_exported public import struct FoundationEssentials.Date
    @_exported public import struct FoundationEssentials.TimeZone
    @_exported public import struct FoundationEssentials.UUID
#else
    @_exported public import struct Foundation.Date
    @_exported public import struct Foundation.TimeZone
    @_exported public import struct Foundation.UUID
#endif
