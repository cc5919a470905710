import Foundation
import NMTestSupport
import Testing

/// The VM tier (docs/testing.md): what only a real machine shows. Runs only with
/// `NM_TEST_VM=1` (scripts/test's VM pass); every other tier leaves it out with its filter.
/// Fails, never skips, when the image cannot be built or the VM cannot boot.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["NM_TEST_VM"] == "1"))
struct VMIntegrationTests {
    /// The built bridgeify; its folder is shared read-only into the guest at the same path.
    static let bridgeify = URL(fileURLWithPath: builtExecutable("bridgeify")).resolvingSymlinksInPath().path

    /// 3a and 3b on one boot: bridgeify converts ens4 while an SSH session from the LAN to
    /// the guest's address on it stays open (it must survive; its longest pause is measured),
    /// then a real reboot brings the host back converted with exactly one profile
    /// autoconnecting on ens4.
    @Test func aConversionKeepsAnSSHSessionFromTheLANAndSurvivesAReboot() async throws {
        let folder = URL(fileURLWithPath: Self.bridgeify).deletingLastPathComponent().path
        try await withNMVirtualMachine(nics: 2, shares: [folder]) { vm in
            try vm.runChecked("""
                nmcli connection add con-name wired ifname ens4 type ethernet ipv4.method manual \
                ipv4.addresses 192.168.1.10/24 ipv4.gateway 192.168.1.1 ipv6.method disabled && \
                nmcli --wait 90 connection up wired
                """)
            // The LAN side receives one line every 50 ms for 60 s and stamps each on arrival.
            let session = Task {
                try vm.runLAN(["bash", "-c", """
                    set -o pipefail; \(NMVirtualMachine.scriptPath) lan-ssh \(vm.name) 192.168.1.10 -- \
                    'end=$(($(date +%s) + 60)); while [ $(date +%s) -lt $end ]; do echo x; sleep 0.05; done' |
                    while read -r line; do date +%s%N; done
                    """], timeout: 300)
            }
            // Let the session run a few seconds before the conversion starts.
            try await Task.sleep(for: .seconds(15))
            let run = try vm.run("\(Self.bridgeify) ens4 --json", timeout: 300)
            let report = try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            #expect(run.status == 0 && report?["result"] as? String == "committed",
                    "exit \(run.status)\n\(run.stdout)\n\(run.stderr)")
            let convertedAt = Int64(Date().timeIntervalSince1970 * 1e9)
            let received = try await session.value
            let stamps = received.stdout.split(separator: "\n").compactMap { Int64($0) }
            let gaps = zip(stamps.dropFirst(), stamps).map { Double($0 - $1) / 1e6 }
            let longest = gaps.max() ?? .infinity
            print("VM: the LAN-side SSH session got \(stamps.count) lines; longest pause \(Int(longest)) ms; exit \(received.status)")
            #expect(received.status == 0, "the session broke: \(received.stderr)")
            // Lines keep coming after bridgeify has returned: the session lives on over br0
            // (the rate itself is the guest's: about 7 lines a second under TCG, not 20).
            #expect((stamps.last ?? 0) > convertedAt + 5_000_000_000, "no line after the conversion")

            let before = try vm.runChecked("cat /proc/sys/kernel/random/boot_id")
            let t0 = Date()
            try await vm.reboot()
            print("VM: reboot took \(Int(Date().timeIntervalSince(t0))) s")
            #expect(try vm.runChecked("cat /proc/sys/kernel/random/boot_id") != before)
            try await Self.expectConverted(vm)
        }
    }

    /// br0 holds 192.168.1.10, ens4 is its port, and exactly one profile autoconnects on ens4.
    static func expectConverted(_ vm: NMVirtualMachine) async throws {
        let deadline = Date().addingTimeInterval(120)
        var addresses = ""
        while Date() < deadline {
            addresses = try vm.runChecked("ip -4 -o addr show")
            if addresses.contains("br0") && addresses.contains("192.168.1.10/24") { break }
            try await Task.sleep(for: .seconds(2))
        }
        let holders = addresses.split(separator: "\n").filter { $0.contains("192.168.1.10/24") }
        #expect(holders.count == 1 && holders[0].contains(" br0 "), "\(addresses)")
        #expect(try vm.runChecked("ip -o link show ens4").contains("master br0"))
        let listing = try vm.runChecked("""
            for u in $(nmcli -g UUID connection show); do
                # one field a line with -g on one profile: joined here as IFNAME:AUTOCONNECT:ID
                echo "$(nmcli -g connection.interface-name connection show "$u"):$(nmcli -g connection.autoconnect connection show "$u"):$(nmcli -g connection.id connection show "$u")"
            done
            """)
        let autoconnecting = listing.split(separator: "\n").filter { $0.hasPrefix("ens4:yes:") }
        #expect(autoconnecting.count == 1, "\(listing)")
        #expect(try vm.runLAN(["ping", "-c", "3", "-W", "5", "192.168.1.10"]).status == 0)
    }
}
