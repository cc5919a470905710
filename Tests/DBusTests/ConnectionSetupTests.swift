// What needs no bus about connection set-up and call outcomes: which errors leave a call in
// doubt, how bus addresses are resolved and which transports the system bus may use.
@testable import DBus
import Testing

@Suite("Which errors leave a call's outcome unknown")
struct OutcomeUnknownTests {
    @Test("error replies: the peer answered, except the bus's NoReply", arguments: [
        ("com.example.Error.OnFire", false),
        ("org.freedesktop.DBus.Error.Failed", false),
        ("org.freedesktop.DBus.Error.ServiceUnknown", false),
        ("org.freedesktop.DBus.Error.LimitsExceeded", false),
        ("org.freedesktop.DBus.Error.AccessDenied", false),
        ("org.freedesktop.DBus.Error.Timeout", false),
        ("org.freedesktop.NetworkManager.PermissionDenied", false),
        ("org.freedesktop.DBus.Error.NoReply", true),
    ])
    func remote(_ name: String, _ unknown: Bool) {
        let error = DBusError.remote(name: name, message: "m")
        #expect(error.outcomeUnknown == unknown)
        #expect(error.description.contains("outcome unknown") == unknown)
    }

    @Test func localErrorsAreKnownUnlessSaidOtherwise() {
        #expect(!DBusError(.disconnected, "closed").outcomeUnknown)
        #expect(!DBusError(.timeout, "queued").outcomeUnknown)
        let inDoubt = DBusError(.inDoubt, "sent, cancelled", outcomeUnknown: true)
        #expect(inDoubt.outcomeUnknown)
        #expect(inDoubt != DBusError(.inDoubt, "sent, cancelled"))
    }

    @Test func expiryErrorsSayWhetherTheCallWasSent() {
        let name = "org.freedesktop.NetworkManager.CheckpointCreate"
        let queued = LibDBusTransport.expiryError(.queued, call: name, window: 64)
        #expect(queued.code == .timeout && !queued.outcomeUnknown)
        #expect(queued.message.contains("never sent"))
        let sent = LibDBusTransport.expiryError(.onWire, call: name, window: 64)
        #expect(sent.code == .timeout && sent.outcomeUnknown)
        #expect(sent.message.contains(name))
        let cancelled = LibDBusTransport.expiryError(.cancelled, call: name, window: 64)
        #expect(cancelled.code == .inDoubt && cancelled.outcomeUnknown)
    }
}

@Suite("Bus addresses")
struct BusAddressTests {
    static func endpoint(_ target: LibDBusTransport.Target, _ environment: [String: String],
                         options: DBusConnection.Options = .init()) throws(DBusError) -> LibDBusTransport.Endpoint {
        try LibDBusTransport.endpoint(for: target, options: options) { environment[$0] }
    }

    @Test func theSystemBusFollowsTheVariableOrLibdbussDefault() throws {
        #expect(try Self.endpoint(.system, [:]).address == "unix:path=/var/run/dbus/system_bus_socket")
        let fromVariable = try Self.endpoint(.system, ["DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/tmp/nm/system_bus_socket"])
        #expect(fromVariable.address == "unix:path=/tmp/nm/system_bus_socket")
        #expect(fromVariable.register)
        #expect(fromVariable.label.contains("/tmp/nm/system_bus_socket"))
    }

    @Test("socket transports are accepted for the system bus", arguments: [
        "unix:path=/run/dbus/system_bus_socket",
        "unix:abstract=/tmp/dbus-test",
        "tcp:host=127.0.0.1,port=4711",
        "nonce-tcp:host=127.0.0.1,port=4711,noncefile=/tmp/nonce",
        "unix:path=/nonexistent;tcp:host=127.0.0.1,port=4711",
    ])
    func accepted(_ address: String) throws {
        #expect(try Self.endpoint(.system, ["DBUS_SYSTEM_BUS_ADDRESS": address]).address == address)
    }

    @Test("other transports are refused for the system bus", arguments: [
        "unixexec:path=/bin/true",
        "autolaunch:",
        "launchd:env=DBUS_LAUNCHD_SESSION_BUS_SOCKET",
        "unix:path=/run/dbus/system_bus_socket;unixexec:path=/bin/sh,argv1=-c",
    ])
    func refused(_ address: String) throws {
        let error = try #require(throws: DBusError.self) { try Self.endpoint(.system, ["DBUS_SYSTEM_BUS_ADDRESS": address]) }
        #expect(error.code == .badAddress)
        #expect(error.hint != nil)
        // Unless the caller allows it explicitly.
        let allowed = try Self.endpoint(.system, ["DBUS_SYSTEM_BUS_ADDRESS": address],
                                        options: .init(allowsNonSocketSystemBus: true))
        #expect(allowed.address == address)
    }

    @Test func aMalformedSystemBusAddressIsABadAddress() throws {
        let error = try #require(throws: DBusError.self) { try Self.endpoint(.system, ["DBUS_SYSTEM_BUS_ADDRESS": "nonsense"]) }
        #expect(error.code == .badAddress)
    }

    @Test func anExplicitAddressIsTheCallersChoice() throws {
        let endpoint = try Self.endpoint(.address("unixexec:path=/bin/true", register: false), [:])
        #expect(endpoint.address == "unixexec:path=/bin/true")
        #expect(!endpoint.register)
    }

    @Test func theSessionBusFollowsTheVariableThenAutolaunch() throws {
        #expect(try Self.endpoint(.session, ["DBUS_SESSION_BUS_ADDRESS": "unix:path=/tmp/s"]).address == "unix:path=/tmp/s")
        #expect(try Self.endpoint(.session, ["XDG_RUNTIME_DIR": "/nonexistent"]).address == "autolaunch:")
    }
}
