#!/usr/bin/env python3
"""python-sdbus-networkmanager (PyPI: sdbus-networkmanager, over sd-bus): the asyncio peer.
Run by scripts/bench inside the container with the venv's python (.build-bench/venv, made
from Debian's /usr/bin/python3).

  sdbus_peer.py version                 blocking API: NetworkManager().version
  sdbus_peer.py read-profiles-async     ListConnections, then every GetSettings at once (asyncio.gather)
  sdbus_peer.py read-profiles-seq       ListConnections, then one GetSettings at a time
  sdbus_peer.py read-profiles-typed     as -async, but get_profile(): typed ConnectionProfile dataclasses
  sdbus_peer.py read-profiles-window [N]        as -async, at most N (64) GetSettings in flight (a semaphore):
                                        what an sdbus user writes once the bus refuses thousands at once
  sdbus_peer.py read-profiles-typed-window [N]  as -typed, at most N (64) in flight
  sdbus_peer.py concurrent-reads N      N Properties.Get of Version: gathered, then one at a time (JSON, ms)
  sdbus_peer.py convert                 eno1's static configuration onto a new bridge br0 (STP off): add
                                        both profiles, activate the port, wait on StateChanged signals until
                                        br0 and eno1 are activated (no checkpoint: nmcli's procedure in sdbus)

Prints a line the harness checks against our own tool's output.
"""
import asyncio
import json
import sys
import time

import sdbus


def addresses_of(settings):
    ipv4 = settings.get("ipv4", {})
    data = ipv4.get("address-data")
    return len(data[1]) if data else 0


def windowed(limit):
    """Wraps coroutines so that at most `limit` run at once (dbus-daemon refuses a connection
    more than max_replies_per_connection pending replies: 128 on a default system bus)."""
    semaphore = asyncio.Semaphore(limit)

    async def run(coroutine):
        async with semaphore:
            return await coroutine

    return run


async def read_profiles(mode, window):
    from sdbus_async.networkmanager import NetworkConnectionSettings, NetworkManagerSettings

    paths = await NetworkManagerSettings().list_connections()
    if mode == "read-profiles-async":
        settings = await asyncio.gather(*(NetworkConnectionSettings(p).get_settings() for p in paths))
    elif mode == "read-profiles-window":
        run = windowed(window)
        settings = await asyncio.gather(*(run(NetworkConnectionSettings(p).get_settings()) for p in paths))
    elif mode == "read-profiles-seq":
        settings = [await NetworkConnectionSettings(p).get_settings() for p in paths]
    else:
        run = windowed(window) if mode == "read-profiles-typed-window" else (lambda coroutine: coroutine)
        profiles = await asyncio.gather(*(run(NetworkConnectionSettings(p).get_profile(fetch_secrets=False))
                                          for p in paths))
        count = sum(len(p.ipv4.address_data or []) for p in profiles if p.ipv4 is not None)
        print(f"profiles={len(profiles)} ipv4-addresses={count}")
        return
    print(f"profiles={len(settings)} ipv4-addresses={sum(addresses_of(s) for s in settings)}")


async def concurrent_reads(count):
    from sdbus_async.networkmanager import NetworkManager

    nm = NetworkManager()
    await nm.version.get_async()
    start = time.monotonic()
    versions = await asyncio.gather(*(nm.version.get_async() for _ in range(count)))
    concurrent = (time.monotonic() - start) * 1e3
    assert len(versions) == count and all(versions)
    start = time.monotonic()
    for _ in range(count):
        await nm.version.get_async()
    sequential = (time.monotonic() - start) * 1e3
    print(json.dumps({"count": count, "concurrent_ms": [concurrent], "sequential_ms": [sequential]}))


async def wait_activated(path):
    """Returns once the device at `path` is ACTIVATED (100): subscribe first, then read."""
    from sdbus_async.networkmanager import NetworkDeviceGeneric

    device = NetworkDeviceGeneric(path)
    done = asyncio.get_running_loop().create_future()

    async def watch():
        async for new, _old, _reason in device.state_changed:
            if new == 100:
                done.set_result(None) if not done.done() else None
                return

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0)  # let the subscription start
    if await device.state == 100 and not done.done():
        done.set_result(None)
    await asyncio.wait_for(done, 60)
    watcher.cancel()


async def convert():
    import uuid

    from sdbus_async.networkmanager import NetworkManager, NetworkManagerSettings

    def connection(name, kind, interface, **extra):
        return {"id": ("s", name), "uuid": ("s", str(uuid.uuid4())), "type": ("s", kind),
                "interface-name": ("s", interface), **extra}

    bridge = {
        "connection": connection("br0", "bridge", "br0"),
        "bridge": {"stp": ("b", False)},
        "ipv4": {"method": ("s", "manual"),
                 "address-data": ("aa{sv}", [{"address": ("s", "192.168.1.200"), "prefix": ("u", 24)}]),
                 "gateway": ("s", "192.168.1.1"),
                 "dns": ("au", [int.from_bytes(bytes([114, 114, 114, 114]), "little")])},
        "ipv6": {"method": ("s", "auto")},
    }
    port = {
        "connection": connection("br0-port-eno1", "802-3-ethernet", "eno1",
                                 master=("s", "br0"), **{"slave-type": ("s", "bridge")}),
        "802-3-ethernet": {},
    }
    settings, nm = NetworkManagerSettings(), NetworkManager()
    await settings.add_connection(bridge)
    port_path = await settings.add_connection(port)
    await nm.activate_connection(port_path, "/", "/")
    await wait_activated(await nm.get_device_by_ip_iface("br0"))
    await wait_activated(await nm.get_device_by_ip_iface("eno1"))
    print("converted")


def main(argv):
    mode = argv[1]
    sdbus.set_default_bus(sdbus.sd_bus_open_system())
    if mode == "version":
        from sdbus_block.networkmanager import NetworkManager

        print(NetworkManager().version)
    elif mode.startswith("read-profiles"):
        asyncio.run(read_profiles(mode, int(argv[2]) if len(argv) > 2 else 64))
    elif mode == "concurrent-reads":
        asyncio.run(concurrent_reads(int(argv[2])))
    elif mode == "convert":
        asyncio.run(convert())
    else:
        sys.exit(f"sdbus_peer.py: unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv)
