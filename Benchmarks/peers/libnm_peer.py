#!/usr/bin/python3
"""libnm through PyGObject (Debian: python3-gi, gir1.2-nm-1.0): the peer that GNOME's tools,
nmcli itself and most Python scripts use. Run by scripts/bench inside the container, with
Debian's /usr/bin/python3 (a pyenv python3 on PATH has no gi).

  libnm_peer.py version          NM.Client.new() (which loads every object and profile), then its version
  libnm_peer.py read-profiles    NM.Client.new(), then every profile's settings

Prints a line the harness checks against our own tool's output.
"""
import sys

import gi

gi.require_version("NM", "1.0")
from gi.repository import NM  # noqa: E402


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
    else:
        sys.exit(f"libnm_peer.py: unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1])
