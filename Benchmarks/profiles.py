"""Realistic connection profiles for the benchmarks, written as NetworkManager keyfiles.

Writing keyfiles into the container's private /etc/NetworkManager/system-connections and
calling `nmcli connection reload` once loads 500 profiles in about a second; 500
AddConnection2 calls would take longer and measure something else.

The mix is what a server fleet's NetworkManager holds: mostly ethernet NICs with static IPv4,
a gateway and DNS; some with static IPv6, routes, an MTU or a cloned MAC; VLANs on them,
bridges with their ports, and bonds. No profile names an interface that exists in the
container, and none autoconnects, so loading them changes nothing on the network.
"""
import os
import uuid

NAMESPACE = uuid.UUID("6f1d3c1e-8b1f-4d5e-9a53-0c2b7e9d4a10")


def _uuid(name):
    return str(uuid.uuid5(NAMESPACE, name))


def keyfiles(count, prefix="bench"):
    """(file name, contents) of `count` profiles, deterministic."""
    files = []
    for i in range(count):
        kind = i % 10
        name = f"{prefix}-{i:04d}"
        net = 10 + i // 250  # 10.x.y.0/24 networks, unique per profile
        third = i % 250
        v4 = f"10.{net}.{third}.{10 + i % 200}/24"
        gw = f"10.{net}.{third}.1"
        ifname = f"ens{i}"
        conn = [
            "[connection]",
            f"id={name}",
            f"uuid={_uuid(name)}",
            "autoconnect=false",
        ]
        ipv4 = [
            "[ipv4]",
            "method=manual",
            f"address1={v4},{gw}",
            "dns=192.0.2.53;198.51.100.7;",
            "dns-search=example.net;",
        ]
        ipv6 = ["[ipv6]", "method=auto", "addr-gen-mode=stable-privacy"]
        extra = []
        if kind <= 5:  # ethernet, static IPv4; every third one with more settings
            conn += ["type=ethernet", f"interface-name={ifname}"]
            extra = ["[ethernet]"]
            if i % 3 == 0:
                extra += ["mtu=9000", f"cloned-mac-address=52:54:00:{i >> 8 & 0xff:02x}:{i & 0xff:02x}:01"]
                ipv4 += [f"route1=172.{16 + i % 16}.{third}.0/24,{gw},100"]
        elif kind == 6:  # ethernet, static IPv4 and IPv6
            conn += ["type=ethernet", f"interface-name={ifname}"]
            extra = ["[ethernet]"]
            ipv6 = ["[ipv6]", "method=manual", f"address1=2001:db8:{i:x}::10/64,2001:db8:{i:x}::1",
                    "dns=2001:db8::53;", "addr-gen-mode=eui64"]
        elif kind == 7:  # a VLAN on a NIC
            conn += ["type=vlan", f"interface-name=vl{i}"]
            extra = ["[vlan]", f"id={100 + i % 3000}", f"parent=ens{i - 1}", "flags=1"]
        elif kind == 8:  # a bridge for VMs, STP off
            conn += ["type=bridge", f"interface-name=br{i}", "autoconnect-slaves=1"]
            extra = ["[bridge]", "stp=false", "forward-delay=2"]
        else:  # kind == 9: the bridge's port (no IP settings), or a bond now and then
            if i % 20 == 9:
                conn += ["type=bond", f"interface-name=bond{i}"]
                extra = ["[bond]", "mode=802.3ad", "miimon=100", "xmit_hash_policy=layer3+4"]
            else:
                bridge = f"{prefix}-{i - 1:04d}"
                conn += ["type=ethernet", f"interface-name={ifname}", f"master={_uuid(bridge)}",
                         "slave-type=bridge"]
                extra = ["[ethernet]", "[bridge-port]", "priority=32", "path-cost=100"]
                ipv4 = ipv6 = []
        body = conn + [""] + extra + [""] + ipv4 + [""] + ipv6 + [""]
        if ipv4:
            body += ["[proxy]", ""]
        files.append((f"{name}.nmconnection", "\n".join(line for line in body) + "\n"))
    return files


def write(directory, count, prefix="bench"):
    """Writes the keyfiles (mode 0600: NetworkManager ignores files others can read)."""
    for filename, text in keyfiles(count, prefix):
        path = os.path.join(directory, filename)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
