import DBus
@testable import NetworkManager
import Testing

/// The object mirror's fold (``NMObjectMirror``): a `GetManagedObjects` reply plus the signals
/// after it, by serial and sender. `ObjectMirrorIntegrationTests` compares it with a real read.
@Suite struct ObjectMirrorTests {
    static let owner = ":1.42"
    static let device: ObjectPath = "/org/freedesktop/NetworkManager/Devices/3"
    static let deviceInterface: InterfaceName = "org.freedesktop.NetworkManager.Device"
    static let config: ObjectPath = "/org/freedesktop/NetworkManager/IP4Config/7"
    static let configInterface: InterfaceName = "org.freedesktop.NetworkManager.IP4Config"

    static func start() -> NMObjectMirror.Fold {
        NMObjectMirror.Fold(owner: owner, serial: 100, objects: [
            device: [deviceInterface: ["Interface": .string("eno1"), "State": .uint32(30)]],
        ])
    }

    static func changed(_ path: ObjectPath, _ interface: InterfaceName, _ properties: [String: DBusValue],
                        invalidated: [String] = [], serial: UInt32, sender: String = owner) -> DBusSignal {
        DBusSignal(sender: sender, path: path, interface: .properties, member: "PropertiesChanged", body: [
            .string(interface.rawValue),
            .dictionary(key: .string, value: .variant, properties.sorted { $0.key < $1.key }.map { DBusValue.DictionaryEntry(.string($0.key), .variant($0.value)) }),
            .array(.string, invalidated.map { .string($0) }),
        ], serial: serial)
    }

    static func added(_ path: ObjectPath, _ interface: InterfaceName, _ properties: [String: DBusValue], serial: UInt32) -> DBusSignal {
        DBusSignal(sender: owner, path: "/org/freedesktop", interface: .objectManager, member: "InterfacesAdded", body: [
            .objectPath(path),
            .dictionary(key: .string, value: .dictionary(key: .string, value: .variant), [
                DBusValue.DictionaryEntry(.string(interface.rawValue),
                 .dictionary(key: .string, value: .variant, properties.sorted { $0.key < $1.key }.map { DBusValue.DictionaryEntry(.string($0.key), .variant($0.value)) })),
            ]),
        ], serial: serial)
    }

    static func removed(_ path: ObjectPath, _ interfaces: [InterfaceName], serial: UInt32) -> DBusSignal {
        DBusSignal(sender: owner, path: "/org/freedesktop", interface: .objectManager, member: "InterfacesRemoved", body: [
            .objectPath(path), .array(.string, interfaces.map { .string($0.rawValue) }),
        ], serial: serial)
    }

    @Test func aPropertiesChangedAfterTheReplyIsApplied() {
        var fold = Self.start()
        do { let applied = fold.apply(Self.changed(Self.device, Self.deviceInterface, ["State": .uint32(100)], serial: 101)); #expect(applied) }
        #expect(fold.objects[Self.device]?[Self.deviceInterface]?["State"] == .uint32(100))
        #expect(fold.objects[Self.device]?[Self.deviceInterface]?["Interface"] == .string("eno1"))
    }

    @Test func invalidatedPropertiesAreDropped() {
        var fold = Self.start()
        fold.apply(Self.changed(Self.device, Self.deviceInterface, [:], invalidated: ["Interface"], serial: 101))
        #expect(fold.objects[Self.device]?[Self.deviceInterface]?["Interface"] == nil)
        #expect(fold.objects[Self.device]?[Self.deviceInterface]?["State"] == .uint32(30))
    }

    @Test func aSignalSentBeforeTheReplyIsIgnored() {
        var fold = Self.start()
        do { let applied = fold.apply(Self.changed(Self.device, Self.deviceInterface, ["State": .uint32(20)], serial: 99)); #expect(!applied) }
        do { let applied = fold.apply(Self.changed(Self.device, Self.deviceInterface, ["State": .uint32(20)], serial: 100)); #expect(!applied) }
        #expect(fold.objects[Self.device]?[Self.deviceInterface]?["State"] == .uint32(30))
    }

    @Test func anotherSendersSignalIsIgnored() {
        var fold = Self.start()
        do { let applied = fold.apply(Self.changed(Self.device, Self.deviceInterface, ["State": .uint32(20)], serial: 500, sender: ":1.99")); #expect(!applied) }
        #expect(fold.objects[Self.device]?[Self.deviceInterface]?["State"] == .uint32(30))
    }

    @Test func aPropertiesChangedForAnUnknownPathOrInterfaceIsIgnored() {
        var fold = Self.start()
        let before = fold.objects
        do { let applied = fold.apply(Self.changed("/org/freedesktop/NetworkManager/Devices/9", Self.deviceInterface, ["State": .uint32(100)], serial: 101)); #expect(!applied) }
        do { let applied = fold.apply(Self.changed(Self.device, "org.freedesktop.NetworkManager.Device.Statistics", ["RxBytes": .uint64(1)], serial: 102)); #expect(!applied) }
        #expect(fold.objects == before)
    }

    @Test func interfacesAddedAddsTheObjectThenItsChangesApply() {
        var fold = Self.start()
        do { let applied = fold.apply(Self.added(Self.config, Self.configInterface, ["Gateway": .string("")], serial: 101)); #expect(applied) }
        do { let applied = fold.apply(Self.changed(Self.config, Self.configInterface, ["Gateway": .string("192.0.2.1")], serial: 102)); #expect(applied) }
        #expect(fold.objects[Self.config]?[Self.configInterface]?["Gateway"] == .string("192.0.2.1"))
        // Another interface on a known object joins it.
        let wired: InterfaceName = "org.freedesktop.NetworkManager.Device.Wired"
        fold.apply(Self.added(Self.device, wired, ["Carrier": .boolean(true)], serial: 103))
        #expect(fold.objects[Self.device]?.keys.sorted { $0.rawValue < $1.rawValue } == [Self.deviceInterface, wired])
    }

    @Test func interfacesRemovedRemovesThemAndTheObjectOnceEmpty() {
        var fold = Self.start()
        fold.apply(Self.added(Self.device, "org.freedesktop.NetworkManager.Device.Wired", ["Carrier": .boolean(true)], serial: 101))
        do { let applied = fold.apply(Self.removed(Self.device, ["org.freedesktop.NetworkManager.Device.Wired"], serial: 102)); #expect(applied) }
        #expect(fold.objects[Self.device]?.keys.map(\.rawValue) == [Self.deviceInterface.rawValue])
        do { let applied = fold.apply(Self.removed(Self.device, [Self.deviceInterface], serial: 103)); #expect(applied) }
        #expect(fold.objects[Self.device] == nil)
        // An unknown path: nothing to remove.
        do { let applied = fold.apply(Self.removed("/org/freedesktop/NetworkManager/Devices/9", [Self.deviceInterface], serial: 104)); #expect(!applied) }
    }

    @Test func otherSignalsChangeNothing() {
        var fold = Self.start()
        let stateChanged = DBusSignal(sender: Self.owner, path: Self.device, interface: Self.deviceInterface, member: "StateChanged",
                                      body: [.uint32(100), .uint32(30), .uint32(0)], serial: 101)
        do { let applied = fold.apply(stateChanged); #expect(!applied) }
    }

    /// The mirror itself: signals read while the read is on the wire are held and sorted out by
    /// serial once the reply arrives; nothing is served before a read started once armed, nor
    /// for another NetworkManager.
    @Test func theMirrorStartsFromAReadBegunOnceArmedAndKeepsTheSignalsAfterItsReply() {
        let mirror = NMObjectMirror()
        #expect(!mirror.beginRead())  // the rule is not on the bus yet
        mirror.arm()
        #expect(mirror.beginRead())
        mirror.observe(Self.changed(Self.device, Self.deviceInterface, ["State": .uint32(40)], serial: 90))  // before the reply
        mirror.observe(Self.changed(Self.device, Self.deviceInterface, ["State": .uint32(50)], serial: 110))  // after it
        let start = Self.start()
        mirror.finishRead((start.objects, BusName(rawValue: Self.owner), 100))
        #expect(mirror.objects(of: BusName(rawValue: Self.owner))?[Self.device]?[Self.deviceInterface]?["State"] == .uint32(50))
        mirror.observe(Self.changed(Self.device, Self.deviceInterface, ["State": .uint32(100)], serial: 111))
        #expect(mirror.objects(of: BusName(rawValue: Self.owner))?[Self.device]?[Self.deviceInterface]?["State"] == .uint32(100))
        #expect(mirror.objects(of: BusName(rawValue: ":1.43")) == nil)
        #expect(mirror.objects(of: nil) == nil)
        // A failed read leaves the mirror as it was.
        #expect(mirror.beginRead())
        mirror.finishRead(nil)
        #expect(mirror.objects(of: BusName(rawValue: Self.owner)) != nil)
    }

    /// 1.42's supersede without a re-read: a profile's last GetSettings reply is proven current
    /// only if the call was sent once the rule was on the bus, with no `Updated`/`Removed` for
    /// its path since, from the same NetworkManager. (NMClient.isUnchangedSinceRead then
    /// compares the decoded reply with planning's copy.)
    @Test func aProfilesReadIsProvenCurrentOnlyWithoutAnUpdatedSinceItWasSent() {
        let path: ObjectPath = "/org/freedesktop/NetworkManager/Settings/2"
        let reply = DBusValue.string("settings as read")
        let owner = BusName(rawValue: Self.owner)
        func updated(_ member: MemberName = "Updated", serial: UInt32) -> DBusSignal {
            DBusSignal(sender: Self.owner, path: path, interface: NMObjectMirror.profileInterface, member: member, body: [], serial: serial)
        }

        let mirror = NMObjectMirror()
        #expect(mirror.beginSettingsRead(path, owner: owner) == nil)  // read before the rule: no proof
        #expect(mirror.settingsIfUnchanged(path, owner: owner) == nil)
        mirror.arm()
        mirror.observe(updated(serial: 5))  // a change before the read was sent: the read shows it
        if let read = mirror.beginSettingsRead(path, owner: owner) {
            mirror.observe(updated(serial: 6))  // a change while the read is on the wire
            mirror.finishSettingsRead(read, reply: reply, owner: owner)
        } else {
            Issue.record("an armed mirror notes the read")
        }
        #expect(mirror.settingsIfUnchanged(path, owner: owner) == nil)
        if let read = mirror.beginSettingsRead(path, owner: owner) { mirror.finishSettingsRead(read, reply: reply, owner: owner) }
        #expect(mirror.settingsIfUnchanged(path, owner: owner) == reply)
        // Another NetworkManager now (a restart), or another path: no proof.
        #expect(mirror.settingsIfUnchanged(path, owner: BusName(rawValue: ":1.99")) == nil)
        #expect(mirror.settingsIfUnchanged("/org/freedesktop/NetworkManager/Settings/3", owner: owner) == nil)
        // A change after the read.
        mirror.observe(updated(serial: 9))
        #expect(mirror.settingsIfUnchanged(path, owner: owner) == nil)
        // A new read proves it again; a removal since disproves it.
        if let read = mirror.beginSettingsRead(path, owner: owner) { mirror.finishSettingsRead(read, reply: reply, owner: owner) }
        #expect(mirror.settingsIfUnchanged(path, owner: owner) == reply)
        mirror.observe(updated("Removed", serial: 12))
        #expect(mirror.settingsIfUnchanged(path, owner: owner) == nil)
        // A read answered after a restart is not recorded.
        if let read = mirror.beginSettingsRead(path, owner: owner) {
            mirror.finishSettingsRead(read, reply: reply, owner: BusName(rawValue: ":1.99"))
        }
        #expect(mirror.settingsIfUnchanged(path, owner: owner) == nil)
    }
}
