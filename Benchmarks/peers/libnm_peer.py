#!/usr/bin/python3
"""libnm through PyGObject (Debian: python3-gi, gir1.2-nm-1.0): the peer that GNOME's tools,
nmcli itself and most Python scripts use. Run by scripts/bench inside the container, with
Debian's /usr/bin/python3 (a pyenv python3 on PATH has no gi).

  libnm_peer.py version          NM.Client.new() (which loads every object and profile), then its version
  libnm_peer.py read-profiles    NM.Client.new(), then every profile's settings
  libnm_peer.py convert          eno1's static configuration onto a new bridge br0 (STP off), eno1
                                 its port: add both profiles, activate the port, wait until br0 is
                                 activated with eno1 (no checkpoint: the nmcli procedure in libnm)

Prints a line the harness checks against our own tool's output.
"""
import socket
import sys
import uuid

import gi

gi.require_version("NM", "1.0")
from gi.repository import GLib, NM  # noqa: E402


def profile(name, kind, interface, **extra):
    connection = NM.SimpleConnection.new()
    setting = NM.SettingConnection.new()
    setting.set_property(NM.SETTING_CONNECTION_ID, name)
    setting.set_property(NM.SETTING_CONNECTION_UUID, str(uuid.uuid4()))
    setting.set_property(NM.SETTING_CONNECTION_TYPE, kind)
    setting.set_property(NM.SETTING_CONNECTION_INTERFACE_NAME, interface)
    for key, value in extra.items():
        setting.set_property(key, value)
    connection.add_setting(setting)
    return connection


def convert(client):
    """What the nmcli procedure does, through libnm's async API on one main loop."""
    loop = GLib.MainLoop()
    failure = []

    bridge = profile("br0", NM.SETTING_BRIDGE_SETTING_NAME, "br0")
    s_bridge = NM.SettingBridge.new()
    s_bridge.set_property(NM.SETTING_BRIDGE_STP, False)
    bridge.add_setting(s_bridge)
    ip4 = NM.SettingIP4Config.new()
    ip4.set_property(NM.SETTING_IP_CONFIG_METHOD, "manual")
    ip4.add_address(NM.IPAddress.new(socket.AF_INET, "192.168.1.200", 24))
    ip4.set_property(NM.SETTING_IP_CONFIG_GATEWAY, "192.168.1.1")
    ip4.add_dns("114.114.114.114")
    bridge.add_setting(ip4)
    ip6 = NM.SettingIP6Config.new()
    ip6.set_property(NM.SETTING_IP_CONFIG_METHOD, "auto")  # nmcli's default for a new bridge
    bridge.add_setting(ip6)

    port = profile("br0-port-eno1", NM.SETTING_WIRED_SETTING_NAME, "eno1",
                   **{NM.SETTING_CONNECTION_MASTER: "br0", NM.SETTING_CONNECTION_SLAVE_TYPE: "bridge"})
    port.add_setting(NM.SettingWired.new())

    def fail(error):
        failure.append(str(error))
        loop.quit()

    def check(*_):
        devices = {d.get_iface(): d for d in client.get_devices()}
        br0, eno1 = devices.get("br0"), devices.get("eno1")
        if br0 and eno1 and br0.get_state() == NM.DeviceState.ACTIVATED and \
                eno1.get_state() == NM.DeviceState.ACTIVATED and eno1 in br0.get_ports():
            loop.quit()

    def activated(source, result):
        try:
            client.activate_connection_finish(result)
        except GLib.Error as error:
            return fail(error)
        for device in client.get_devices():
            device.connect("state-changed", check)
        client.connect("device-added", lambda _, d: d.connect("state-changed", check))
        check()

    def port_added(source, result):
        try:
            remote = client.add_connection_finish(result)
        except GLib.Error as error:
            return fail(error)
        client.activate_connection_async(remote, None, None, None, activated)

    def bridge_added(source, result):
        try:
            client.add_connection_finish(result)
        except GLib.Error as error:
            return fail(error)
        client.add_connection_async(port, True, None, port_added)

    client.add_connection_async(bridge, True, None, bridge_added)
    GLib.timeout_add_seconds(60, lambda: fail("timeout") or False)
    loop.run()
    if failure:
        sys.exit(f"libnm_peer.py: {failure[0]}")
    print("converted")


def main(mode):
    client = NM.Client.new(None)
    if mode == "version":
        print(client.get_version())
    elif mode == "read-profiles":
        # NM.Client.new() has already called GetSettings for every profile: the settings are
        # NMSetting objects in memory. Read what an inventory would read of each one.
        profiles = addresses = 0
        for connection in client.get_connections():
            connection.get_id()
            connection.get_uuid()
            ip4 = connection.get_setting_ip4_config()
            if ip4 is not None:
                addresses += ip4.get_num_addresses()
            profiles += 1
        print(f"profiles={profiles} ipv4-addresses={addresses}")
    elif mode == "convert":
        convert(client)
    else:
        sys.exit(f"libnm_peer.py: unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1])
