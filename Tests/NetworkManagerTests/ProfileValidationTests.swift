import Foundation
import NetworkManager
import Testing

/// Every rule of `NMConnectionProfile.validate()`, each with the error it must give.
@Suite("Profile builders reject invalid combinations before any D-Bus call")
struct ProfileValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let code: NMError.Code
        let build: @Sendable () throws -> NMConnectionProfile
    }

    static let cases: [Case] = [
        Case(testDescription: "a port with IPv4 settings", code: .portWithIPSettings) {
            var port = try NMConnectionProfile.bridgePort(name: "p", interface: NMInterfaceName("eno1"), controller: "br0")
            port.ipv4 = .static(addresses: ["192.168.1.200/24"])
            try port.validate()
            return port
        },
        Case(testDescription: "a port with IPv6 auto", code: .portWithIPSettings) {
            var port = try NMConnectionProfile.bridgePort(name: "p", interface: NMInterfaceName("eno1"), controller: "br0")
            port.ipv6 = .auto
            try port.validate()
            return port
        },
        Case(testDescription: "a profile with a controller but no port type", code: .invalidProfile) {
            var profile = try NMConnectionProfile.ethernet(name: "p", interface: NMInterfaceName("eno1"))
            profile.ipv4 = nil
            profile.ipv6 = nil
            profile.connection.controller = "br0"
            try profile.validate()
            return profile
        },
        Case(testDescription: "a port type without a controller", code: .invalidProfile) {
            var profile = try NMConnectionProfile.ethernet(name: "p", interface: NMInterfaceName("eno1"))
            profile.connection.portType = .bridge
            try profile.validate()
            return profile
        },
        Case(testDescription: "an interface name of 16 bytes", code: .invalidInterfaceName) {
            try NMConnectionProfile.ethernet(name: "p", interface: NMInterfaceName("sixteen-chars-xx"))
        },
        Case(testDescription: "an interface name with '/'", code: .invalidInterfaceName) {
            try NMConnectionProfile.bridge(name: "p", interface: NMInterfaceName("br/0"))
        },
        Case(testDescription: "an interface name with whitespace", code: .invalidInterfaceName) {
            try NMConnectionProfile.dummy(name: "p", interface: NMInterfaceName("dummy 0"))
        },
        Case(testDescription: "a derived VLAN interface name over 15 bytes", code: .invalidInterfaceName) {
            try NMConnectionProfile.vlan(name: "v", parent: "enp0s31f6abc", id: 1000)
        },
        Case(testDescription: "an IPv4 prefix of 33", code: .invalidPrefix) {
            try NMConnectionProfile.ethernet(
                name: "p", interface: NMInterfaceName("eno1"),
                ipv4: .static(addresses: [IPAddressWithPrefix(IPv4Address(192, 168, 1, 200), prefix: 33)]))
        },
        Case(testDescription: "an IPv6 prefix of 129", code: .invalidPrefix) {
            try NMConnectionProfile.ethernet(
                name: "p", interface: NMInterfaceName("eno1"), ipv6: .static(addresses: [IPv6AddressWithPrefix(String("2001:db8::1/129"))]))
        },
        Case(testDescription: "an IPv4 gateway outside every subnet", code: .gatewayOutsideSubnet) {
            try NMConnectionProfile.ethernet(
                name: "p", interface: NMInterfaceName("eno1"),
                ipv4: .static(addresses: ["192.168.1.200/24", "10.0.0.1/8"], gateway: "192.168.2.1"))
        },
        Case(testDescription: "an IPv4 gateway with no address", code: .gatewayOutsideSubnet) {
            var ipv4 = NMIPv4Setting.dhcp
            ipv4.gateway = "192.168.1.1"
            return try NMConnectionProfile.ethernet(name: "p", interface: NMInterfaceName("eno1"), ipv4: ipv4)
        },
        Case(testDescription: "an IPv6 gateway outside every subnet (not link-local)", code: .gatewayOutsideSubnet) {
            try NMConnectionProfile.ethernet(
                name: "p", interface: NMInterfaceName("eno1"),
                ipv6: .static(addresses: ["2001:db8:1::200/64"], gateway: "2001:db8:2::1"))
        },
        Case(testDescription: "a gateway with never-default", code: .invalidProfile) {
            var ipv4 = NMIPv4Setting.static(addresses: ["192.168.1.200/24"], gateway: "192.168.1.1")
            ipv4.neverDefault = true
            return try NMConnectionProfile.ethernet(name: "p", interface: NMInterfaceName("eno1"), ipv4: ipv4)
        },
        Case(testDescription: "a duplicate IPv4 address", code: .duplicateAddress) {
            try NMConnectionProfile.ethernet(
                name: "p", interface: NMInterfaceName("eno1"), ipv4: .static(addresses: ["192.168.1.200/24", "192.168.1.200/16"]))
        },
        Case(testDescription: "a duplicate IPv6 address", code: .duplicateAddress) {
            try NMConnectionProfile.ethernet(
                name: "p", interface: NMInterfaceName("eno1"), ipv6: .static(addresses: ["2001:db8::1/64", "2001:db8:0::1/64"]))
        },
        Case(testDescription: "a static IPv4 method with no address", code: .missingAddress) {
            try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"), ipv4: .static(addresses: []))
        },
        Case(testDescription: "a static IPv6 method with no address", code: .missingAddress) {
            try NMConnectionProfile.bridge(name: "br0", interface: NMInterfaceName("br0"), ipv6: .static(addresses: []))
        },
        Case(testDescription: "addresses with method disabled", code: .invalidProfile) {
            var ipv4 = NMIPv4Setting.disabled
            ipv4.addresses = ["192.0.2.1/24"]
            return try NMConnectionProfile.dummy(name: "d", interface: NMInterfaceName("dummy0"), ipv4: ipv4)
        },
        Case(testDescription: "VLAN id 4095", code: .invalidVLANID) {
            try NMConnectionProfile.vlan(name: "v", parent: "eno1", id: 4095)
        },
        Case(testDescription: "VLAN id 65535", code: .invalidVLANID) {
            try NMConnectionProfile.vlan(name: "v", parent: "eno1", id: 65535, interface: NMInterfaceName("vlan-max"))
        },
        Case(testDescription: "a bridge VLAN range reaching 4095", code: .invalidVLANID) {
            try NMConnectionProfile.bridgePort(
                name: "p", interface: NMInterfaceName("eno1"), controller: "br0",
                port: NMBridgePortSetting(vlans: [NMBridgeVLAN(ids: 4000...4095)]))
        },
        Case(testDescription: "a bridge VLAN 0", code: .invalidVLANID) {
            try NMConnectionProfile.bridge(name: "b", interface: NMInterfaceName("br0"),
                                           options: NMBridgeSetting(vlans: [NMBridgeVLAN(id: 0)]))
        },
        Case(testDescription: "a PVID on a VLAN range", code: .invalidProfile) {
            try NMConnectionProfile.bridge(name: "b", interface: NMInterfaceName("br0"),
                                           options: NMBridgeSetting(vlans: [NMBridgeVLAN(ids: 10...20, pvid: true)]))
        },
        Case(testDescription: "a forward delay with a fraction of a second", code: .invalidProfile) {
            try NMConnectionProfile.bridge(name: "b", interface: NMInterfaceName("br0"),
                                           options: NMBridgeSetting(forwardDelay: .milliseconds(1500)))
        },
        Case(testDescription: "a negative DHCP timeout", code: .invalidProfile) {
            try NMConnectionProfile.ethernet(name: "p", interface: NMInterfaceName("eno1"), ipv4: .dhcp(timeout: .seconds(-1)))
        },
        Case(testDescription: "an empty profile name", code: .invalidProfile) {
            try NMConnectionProfile.ethernet(name: "", interface: NMInterfaceName("eno1"))
        },
        Case(testDescription: "an empty controller", code: .invalidProfile) {
            try NMConnectionProfile.bridgePort(name: "p", interface: NMInterfaceName("eno1"), controller: "")
        },
    ]

    @Test("rule", arguments: cases)
    func rejects(_ rule: Case) {
        #expect {
            _ = try rule.build()
        } throws: { error in
            guard let error = error as? NMError else { return false }
            // Every rejection explains itself and says what to do.
            return error.code == rule.code && !error.message.isEmpty && error.hint != nil && error.domain == .local
        }
    }

    @Test("the messages name the setting key and the values")
    func messages() throws {
        do {
            _ = try NMConnectionProfile.ethernet(
                name: "p", interface: NMInterfaceName("eno1"), ipv4: .static(addresses: ["192.168.1.200/24"], gateway: "10.0.0.1"))
            Issue.record("accepted a gateway outside the subnet")
        } catch {
            #expect(error.message == "ipv4.gateway 10.0.0.1 lies outside every address's subnet (192.168.1.0/24)")
        }
        do {
            var port = try NMConnectionProfile.bridgePort(name: "eno1-port", interface: NMInterfaceName("eno1"), controller: "br0")
            port.ipv4 = .dhcp
            try port.validate()
            Issue.record("accepted a port with IP")
        } catch {
            #expect(error.message == "'eno1-port' is a port of 'br0' but carries ipv4 settings")
            #expect(error.hint?.contains("a bridge port cannot carry IP settings") == true)
        }
        do {
            _ = try NMConnectionProfile.vlan(name: "v", parent: "eno1", id: 4095)
            Issue.record("accepted VLAN 4095")
        } catch {
            #expect(error.message == "vlan.id 4095 is outside 0...4094")
        }
    }

    @Test("valid edge cases are accepted")
    func accepts() throws {
        // A link-local IPv6 gateway is fine outside the address's subnet.
        _ = try NMConnectionProfile.ethernet(
            name: "p", interface: NMInterfaceName("eno1"), ipv6: .static(addresses: ["2001:db8:1::200/64"], gateway: "fe80::1"))
        // A gateway in the subnet of the second address.
        _ = try NMConnectionProfile.ethernet(
            name: "p", interface: NMInterfaceName("eno1"), ipv4: .static(addresses: ["10.0.0.5/8", "192.168.1.200/24"], gateway: "192.168.1.1"))
        // VLAN ids 0 and 4094, a 15-byte interface name.
        _ = try NMConnectionProfile.vlan(name: "v", parent: "eno1", id: 0)
        _ = try NMConnectionProfile.vlan(name: "v", parent: "eno1", id: 4094, interface: NMInterfaceName("fifteen-chars-x"))
        // A port whose IP settings are disabled carries nothing.
        var port = try NMConnectionProfile.bridgePort(name: "p", interface: NMInterfaceName("eno1"), controller: "br0")
        port.ipv4 = .disabled
        port.ipv6 = .ignore
        try port.validate()
        // A VRF port keeps IP settings.
        var vrfPort = try NMConnectionProfile.ethernet(name: "p", interface: NMInterfaceName("eno1"))
        vrfPort.connection.controller = "vrf0"
        vrfPort.connection.portType = .vrf
        try vrfPort.validate()
        // A VLAN on a parent named by UUID has no derived interface name.
        let parent = UUID()
        let vlan = try NMConnectionProfile.vlan(name: "v", parent: parent.uuidString.lowercased(), id: 7)
        #expect(vlan.interfaceName == nil)
    }

    @Test("turning a NIC profile into a bridge port drops its IP settings and keeps its UUID")
    func attached() throws {
        let eno1 = try NMConnectionProfile.ethernet(
            name: "eno1", interface: NMInterfaceName("eno1"),
            ipv4: .static(addresses: ["192.168.1.200/24"], gateway: "192.168.1.1", dns: ["192.0.2.53"]))
        let port = try eno1.attached(to: "br0")
        #expect(port.uuid == eno1.uuid)
        #expect(port.ipv4 == nil && port.ipv6 == nil)
        #expect(port.connection.controller == "br0")
        #expect(port.connection.portType == .bridge)
        #expect(port.bridgePort == NMBridgePortSetting())
    }
}
