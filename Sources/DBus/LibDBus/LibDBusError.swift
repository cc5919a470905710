internal import CDBus

/// The one conversion point from libdbus's `DBusError` out-parameter to ``DBusError``.
///
/// Every libdbus call that can fail with a `DBusError` goes through ``withLibDBusError(_:)``,
/// as swift-nio routes every system call through one `syscall` helper.
func withLibDBusError<T>(
    _ context: @autoclosure () -> String,
    _ body: (UnsafeMutablePointer<CDBus.DBusError>) -> T?
) throws(DBusError) -> T {
    var error = CDBus.DBusError()
    dbus_error_init(&error)
    defer { dbus_error_free(&error) }
    let result = body(&error)
    if dbus_error_is_set(&error) != 0 {
        throw translate(&error, context: context())
    }
    guard let result else {
        throw DBusError(.failed, "\(context()): libdbus reported failure without an error")
    }
    return result
}

/// Turns a set libdbus error into ``DBusError``, mapping local failures to local codes.
func translate(_ error: UnsafeMutablePointer<CDBus.DBusError>, context: String) -> DBusError {
    let name = error.pointee.name.map { String(cString: $0) } ?? "org.freedesktop.DBus.Error.Failed"
    let message = error.pointee.message.map { String(cString: $0) } ?? ""
    let text = context.isEmpty ? message : "\(context): \(message)"
    switch name {
    case "org.freedesktop.DBus.Error.NoMemory":
        return DBusError(.noMemory, text, name: name)
    case "org.freedesktop.DBus.Error.BadAddress":
        return DBusError(.badAddress, text, name: name,
                         hint: "a bus address looks like unix:path=/run/dbus/system_bus_socket")
    case "org.freedesktop.DBus.Error.NoServer", "org.freedesktop.DBus.Error.FileNotFound",
        "org.freedesktop.DBus.Error.NotSupported" where context.hasPrefix("connect"):
        return DBusError(.disconnected, text, name: name,
                         hint: "no bus is listening at that address; check DBUS_SYSTEM_BUS_ADDRESS / DBUS_SESSION_BUS_ADDRESS or that the bus daemon runs")
    default:
        var converted = DBusError.remote(name: name, message: text)
        if converted.code == .noServer || converted.code == .accessDenied && context.hasPrefix("connect") {
            converted.hint = "no bus is listening at that address, or this user may not connect to it"
        }
        return converted
    }
}
