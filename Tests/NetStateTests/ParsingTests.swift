import NetState
import Testing

/// The strict reader: every malformed file is refused with the offending key's path and a
/// hint; good files (YAML and the same in JSON) read into the model. No bus.
@Suite("Parsing")
struct ParsingTests {
    struct Bad: CustomTestStringConvertible, Sendable {
        var name: String
        var text: String
        var path: String
        var messageContains: String
        var testDescription: String { name }
    }

    static let bad: [Bad] = [
        Bad(name: "unknown key in a port", text: """
            interfaces:
            - name: eno1
              type: ethernet
            - name: br0
              type: linux-bridge
              bridge:
                port:
                - nme: eno1
            """, path: "interfaces[1].bridge.port[0].nme", messageContains: "unknown key `nme`"),
        Bad(name: "unknown top-level key", text: "interfaces: []\nroute: {}\n", path: "route", messageContains: "unknown key"),
        Bad(name: "mtu as text", text: "interfaces:\n- name: eno1\n  mtu: big\n", path: "interfaces[0].mtu", messageContains: "expected an integer"),
        Bad(name: "enabled as text", text: "interfaces:\n- name: eno1\n  ipv4: {enabled: 'yes'}\n", path: "interfaces[0].ipv4.enabled", messageContains: "true or false"),
        Bad(name: "interfaces not a list", text: "interfaces: {name: eno1}\n", path: "interfaces", messageContains: "expected a list"),
        Bad(name: "unknown type", text: "interfaces:\n- name: tun0\n  type: tun\n", path: "interfaces[0].type", messageContains: "`tun` is not supported"),
        Bad(name: "VLAN id 5000", text: "interfaces:\n- name: eno1.5000\n  type: vlan\n  vlan: {base-iface: eno1, id: 5000}\n",
            path: "interfaces[0].vlan.id", messageContains: "out of range"),
        Bad(name: "VLAN id 0", text: "interfaces:\n- name: v0\n  type: vlan\n  vlan: {base-iface: eno1, id: 0}\n",
            path: "interfaces[0].vlan.id", messageContains: "out of range"),
        Bad(name: "name over 15 bytes", text: "interfaces:\n- name: averyverylongname0\n  type: dummy\n",
            path: "interfaces[0].name", messageContains: "not a valid interface name"),
        Bad(name: "port under two bridges", text: """
            interfaces:
            - name: br0
              type: linux-bridge
              bridge: {port: [{name: eno1}]}
            - name: br1
              type: linux-bridge
              bridge: {port: [{name: eno1}]}
            """, path: "interfaces[1].bridge.port[0].name", messageContains: "already a port of `br0`"),
        Bad(name: "bond port with IP", text: """
            interfaces:
            - name: bond0
              type: bond
              link-aggregation: {mode: active-backup, port: [eno1, eno2]}
            - name: eno2
              type: ethernet
              ipv4: {enabled: true, dhcp: true}
            """, path: "interfaces[1].ipv4", messageContains: "cannot have IP configuration"),
        Bad(name: "bridge keys on an ethernet", text: "interfaces:\n- name: eno1\n  type: ethernet\n  bridge: {port: []}\n",
            path: "interfaces[0].bridge", messageContains: "belongs to interfaces of type linux-bridge"),
        Bad(name: "bad address", text: "interfaces:\n- name: br0\n  type: linux-bridge\n  ipv4:\n    address: [{ip: 10.0.0.300, prefix-length: 24}]\n",
            path: "interfaces[0].ipv4.address[0]", messageContains: "not a valid IPv4"),
        Bad(name: "prefix too long", text: "interfaces:\n- name: br0\n  type: linux-bridge\n  ipv4:\n    address: [{ip: 10.0.0.3, prefix-length: 33}]\n",
            path: "interfaces[0].ipv4.address[0]", messageContains: "not a valid IPv4"),
        Bad(name: "route state other than absent", text: "routes:\n  config:\n  - {destination: 10.1.0.0/16, next-hop-interface: br0, state: up}\n",
            path: "routes.config[0].state", messageContains: "only be `absent`"),
        Bad(name: "route destination", text: "routes:\n  config:\n  - {destination: 10.1.0.0, next-hop-interface: br0}\n",
            path: "routes.config[0].destination", messageContains: "not ADDRESS/PREFIX"),
        Bad(name: "DNS server by name", text: "dns-resolver:\n  config:\n    server: [dns.example]\n",
            path: "dns-resolver.config.server[0]", messageContains: "not an IP address"),
        Bad(name: "bond mode", text: "interfaces:\n- name: bond0\n  type: bond\n  link-aggregation: {mode: fastest}\n",
            path: "interfaces[0].link-aggregation.mode", messageContains: "not known"),
        Bad(name: "same interface twice", text: "interfaces:\n- name: eno1\n- name: eno1\n", path: "interfaces[1].name", messageContains: "already given"),
        Bad(name: "JSON unknown key", text: #"{"interfaces": [{"name": "eno1", "ipv4": {"enabled": true, "dhpc": true}}]}"#,
            path: "interfaces[0].ipv4.dhpc", messageContains: "unknown key"),
        Bad(name: "MAC", text: "interfaces:\n- name: eno1\n  mac-address: 52:54:00\n", path: "interfaces[0].mac-address", messageContains: "not a MAC"),
        Bad(name: "bridge with both port and its alias ports", text: """
            interfaces:
            - name: br0
              type: linux-bridge
              bridge:
                port: [{name: eno1}]
                ports: [{name: eno2}]
            """, path: "interfaces[0].bridge.ports", messageContains: "both `port` and its alias `ports`"),
        Bad(name: "bond with both port and its alias ports", text: """
            interfaces:
            - name: bond0
              type: bond
              link-aggregation: {mode: active-backup, port: [eno1], ports: [eno1]}
            """, path: "interfaces[0].link-aggregation.ports", messageContains: "both `port` and its alias `ports`"),
        Bad(name: "unknown key in a port given under the alias ports", text: """
            interfaces:
            - name: br0
              type: linux-bridge
              bridge: {ports: [{name: eno1}, {nme: eno2}]}
            """, path: "interfaces[0].bridge.ports[1].nme", messageContains: "unknown key `nme`"),
        Bad(name: "bond ports not a list", text: "interfaces:\n- name: bond0\n  type: bond\n  link-aggregation: {mode: active-backup, ports: eno1}\n",
            path: "interfaces[0].link-aggregation.ports", messageContains: "expected a list"),
        Bad(name: "VXLAN remote not an address", text: "interfaces:\n- name: vx0\n  type: vxlan\n  vxlan: {id: 5, remote: peer.example}\n",
            path: "interfaces[0].vxlan.remote", messageContains: "not an IP address"),
        Bad(name: "VXLAN local and remote of different families",
            text: "interfaces:\n- name: vx0\n  type: vxlan\n  vxlan: {id: 5, remote: 192.0.2.2, local: 2001:db8::5}\n",
            path: "interfaces[0].vxlan.local", messageContains: "different address families"),
        Bad(name: "VXLAN id over 24 bits", text: "interfaces:\n- name: vx0\n  type: vxlan\n  vxlan: {id: 16777216, remote: 192.0.2.2}\n",
            path: "interfaces[0].vxlan.id", messageContains: "out of range"),
        Bad(name: "STP timer", text: "interfaces:\n- name: br0\n  type: linux-bridge\n  bridge: {options: {stp: {enabled: true, forward-delay: 99}}}\n",
            path: "interfaces[0].bridge.options.stp.forward-delay", messageContains: "out of range"),
    ]

    @Test("a malformed file is refused with the key's path and a hint", arguments: bad)
    func refused(_ case_: Bad) {
        do {
            let state = try DesiredState.parse(case_.text)
            Issue.record("parsed: \(state)")
        } catch {
            #expect(error.path == case_.path)
            #expect(error.message.contains(case_.messageContains), "\(error.message)")
            #expect(!error.hint.isEmpty)
        }
    }

    @Test("a misspelt key gets a did-you-mean hint")
    func suggestion() {
        #expect(throws: NetStateError.self) { try DesiredState.parse("interfaces:\n- name: br0\n  type: linux-bridge\n  bridge: {port: [{nme: eno1}]}\n") }
        do { _ = try DesiredState.parse("interfaces:\n- name: br0\n  type: linux-bridge\n  bridge: {port: [{nme: eno1}]}\n") } catch {
            #expect(error.hint.contains("did you mean `name`?"))
        }
    }

    static let bridgeYAML = """
        interfaces:
        - name: br0
          type: linux-bridge
          state: up
          mtu: 1500
          mac-address: 52:54:00:12:34:56
          ipv4:
            enabled: true
            dhcp: false
            address:
            - ip: 192.0.2.10
              prefix-length: 24
          ipv6:
            enabled: true
            autoconf: false
            dhcp: false
            address:
            - ip: 2001:db8::10
              prefix-length: 64
          bridge:
            options:
              stp:
                enabled: false
                forward-delay: 15
            port:
            - name: eno1
            - name: eno2
        routes:
          config:
          - destination: 198.51.100.0/24
            next-hop-address: 192.0.2.1
            next-hop-interface: br0
            metric: 150
          - destination: 203.0.113.0/24
            next-hop-interface: br0
            state: absent
        dns-resolver:
          config:
            server: [192.0.2.53, 2001:db8::53]
            search: [example.test]
        """

    @Test("YAML and the same state in JSON read the same, with nmstate's names")
    func yamlAndJSON() throws {
        let yaml = try DesiredState.parse(Self.bridgeYAML)
        #expect(yaml.interfaces.count == 1)
        let br0 = try #require(yaml.interfaces.first)
        #expect(br0.type == .linuxBridge && br0.mtu == 1500 && br0.macAddress == "52:54:00:12:34:56")
        #expect(br0.bridge?.ports == ["eno1", "eno2"] && br0.bridge?.stp == STPState(enabled: false, forwardDelay: 15))
        #expect(br0.ipv4 == IPState(enabled: true, dhcp: false, addresses: [AddressState(ip: "192.0.2.10", prefixLength: 24)]))
        #expect(yaml.routes.map(\.absent) == [false, true] && yaml.routes[0].metric == 150)
        #expect(yaml.dns == DNSState(servers: ["192.0.2.53", "2001:db8::53"], search: ["example.test"]))
        let json = try yaml.jsonText()
        #expect(json.contains("\"prefix-length\"") && json.contains("\"next-hop-interface\"") && json.contains("\"dns-resolver\""))
        #expect(try DesiredState.parse(json) == yaml)
        #expect(try DesiredState.parse(try yaml.yamlText()) == yaml)
    }

    @Test("nmstate's alias `ports` reads as `port`, for a bridge and a bond")
    func portsAlias() throws {
        let alias = try DesiredState.parse("""
            interfaces:
            - name: br0
              type: linux-bridge
              bridge: {options: {stp: {enabled: false}}, ports: [{name: eno1}, {name: eno2}]}
            - name: bond0
              type: bond
              link-aggregation: {mode: active-backup, ports: [eno3, eno4]}
            """)
        let canonical = try DesiredState.parse("""
            interfaces:
            - name: br0
              type: linux-bridge
              bridge: {options: {stp: {enabled: false}}, port: [{name: eno1}, {name: eno2}]}
            - name: bond0
              type: bond
              link-aggregation: {mode: active-backup, port: [eno3, eno4]}
            """)
        #expect(alias == canonical)
        #expect(alias.interfaces[0].bridge?.ports == ["eno1", "eno2"] && alias.interfaces[1].bond?.ports == ["eno3", "eno4"])
        // Written back in nmstate's own spelling.
        #expect(try alias.yamlText().contains("port:") && !(try alias.yamlText().contains("ports:")))
        // The rules still apply to ports given under the alias.
        #expect(throws: NetStateError.self) {
            try DesiredState.parse("""
                interfaces:
                - name: br0
                  type: linux-bridge
                  bridge: {ports: [{name: eno1}]}
                - name: br1
                  type: linux-bridge
                  bridge: {ports: [{name: eno1}]}
                """)
        }
    }

    @Test("VLAN, bond and VXLAN states parse and validate (planned only: this kernel has no 8021q or bonding)")
    func otherTypes() throws {
        let state = try DesiredState.parse("""
            interfaces:
            - name: eno1.100
              type: vlan
              vlan: {base-iface: eno1, id: 100}
            - name: bond0
              type: bond
              link-aggregation: {mode: active-backup, options: {miimon: 100}, port: [eno2]}
            - name: vx0
              type: vxlan
              vxlan: {base-iface: eno1, id: 42, remote: 192.0.2.2, destination-port: 4789}
            """)
        #expect(state.interfaces[0].vlan == VLANState(baseInterface: "eno1", id: 100))
        #expect(state.interfaces[1].bond == BondState(mode: "active-backup", options: ["miimon": "100"], ports: ["eno2"]))
        #expect(state.interfaces[2].vxlan?.id == 42)
    }
}
