#!/usr/bin/python3
"""An independent watcher on the bus (GDBus, not our library) for the conversion benchmark:
prints, as JSON lines with CLOCK_MONOTONIC milliseconds, when the bridge is fully activated
with the NIC (or each of several NICs) as its port.

  watch_activation.py BRIDGE NIC[,NIC...] [TIMEOUT_S]

Prints {"ready": true} once subscribed, then {"activated_mono_ms": T} the first time BRIDGE's
device is ACTIVATED (100) and every NIC's device, having left ACTIVATED since the watcher
started (it moves from its old profile to being a port; a NIC that was not activated has left
already), is ACTIVATED with BRIDGE as its controller (in BRIDGE's `Ports`). Exits 0 then, 1 on timeout. Uses the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured).
"""
import json
import sys
import time

from gi.repository import Gio, GLib

NM = "org.freedesktop.NetworkManager"
DEVICE = "org.freedesktop.NetworkManager.Device"
ACTIVATED = 100


def main():
    bridge, nics = sys.argv[1], sys.argv[2].split(",")
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 90
    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    loop = GLib.MainLoop()
    names = {}  # device path -> interface
    states = {}  # device path -> state
    nic_left = {nic: False for nic in nics}
    done = [False]

    def get(path, prop):
        return bus.call_sync(NM, path, "org.freedesktop.DBus.Properties", "Get",
                             GLib.Variant("(ss)", (DEVICE, prop)), GLib.VariantType("(v)"),
                             Gio.DBusCallFlags.NONE, -1, None).unpack()[0]

    def learn(path):
        if path not in names:
            try:
                names[path] = get(path, "Interface")
                states[path] = get(path, "State")
            except GLib.Error:
                return

    def path_of(interface):
        return next((p for p, n in names.items() if n == interface), None)

    def check(now):
        b, ns = path_of(bridge), [path_of(nic) for nic in nics]
        if done[0] or b is None or None in ns:
            return
        for nic, n in zip(nics, ns):
            if states.get(n) != ACTIVATED:
                nic_left[nic] = True
        if states.get(b) == ACTIVATED and all(states.get(n) == ACTIVATED for n in ns) and all(nic_left.values()):
            try:
                ports = get(b, "Ports")
            except GLib.Error:
                ports = []
            if all(n in ports for n in ns):
                done[0] = True
                print(json.dumps({"activated_mono_ms": now}), flush=True)
                loop.quit()

    def on_signal(connection, sender, path, interface, member, parameters):
        now = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e3
        if member == "StateChanged" and interface == DEVICE:
            learn(path)
            states[path] = parameters.unpack()[0]
        elif member == "DeviceAdded":
            learn(parameters.unpack()[0])
        elif member == "PropertiesChanged" and path in names:
            changed = parameters.unpack()[1]
            if "Ports" not in changed:
                return
        check(now)

    for member, interface in (("StateChanged", DEVICE), ("DeviceAdded", NM),
                              ("PropertiesChanged", "org.freedesktop.DBus.Properties")):
        bus.signal_subscribe(NM, interface, member, None, None, Gio.DBusSignalFlags.NONE, on_signal)
    # A round trip after subscribing: the bus has the match rules before we report ready.
    devices = bus.call_sync(NM, "/org/freedesktop/NetworkManager", NM, "GetDevices", None,
                            GLib.VariantType("(ao)"), Gio.DBusCallFlags.NONE, -1, None).unpack()[0]
    for path in devices:
        learn(path)
    print(json.dumps({"ready": True}), flush=True)
    GLib.timeout_add(int(timeout * 1000), loop.quit)
    loop.run()
    sys.exit(0 if done[0] else 1)


if __name__ == "__main__":
    main()
