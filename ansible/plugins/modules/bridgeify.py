#!/usr/bin/python
# -*- coding: utf-8 -*-
# Runs the bridgeify command of swift-networkmanager on the target with --json and reports its
# JSON document. docs/bridgeify.md (the command) and docs/ansible.md (this collection).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: bridgeify
short_description: Move a NIC's configuration onto a new Linux bridge as one transaction
version_added: "0.1.0"
description:
  - Runs C(bridgeify) (Debian package C(swift-networkmanager-tools)) on the target with C(--json).
  - C(bridgeify) moves an Ethernet interface's configuration (addresses, gateway, routes, DNS, MTU,
    MAC address) onto a new bridge and attaches the interface to it as a port, as one
    NetworkManager transaction under a checkpoint. If activation, verification or a probe fails,
    the host is restored and the task fails with the error's code, message and hint.
  - Check mode runs C(bridgeify --dry-run), which shows the plan and changes nothing. With C(--diff) the plan
    is shown as a diff.
  - C(changed) is false when the interface already is the bridge's port as asked (C(unchanged)),
    and in check mode when the plan has nothing to do.
  - The arguments are checked on the controller by the action plugin before anything is sent to
    the host.
author:
  - swift-networkmanager maintainers (@swift-networkmanager)
attributes:
  check_mode:
    description: Runs C(bridgeify --dry-run); reports the plan and changes nothing.
    support: full
extends_documentation_fragment:
  - swiftnm.network.swiftnm_tool
options:
  operation:
    description:
      - C(convert) converts O(interface). C(confirm) makes a pending conversion (one applied with
        O(confirm)) permanent; C(rollback) undoes a pending or stale one; C(status) reports them.
      - In check mode C(confirm) and C(rollback) only read the status.
    type: str
    default: convert
    choices: [convert, confirm, rollback, status]
  interface:
    description:
      - The Ethernet interface whose configuration moves onto the bridge, such as C(eno1).
      - Required when O(operation=convert).
    type: str
  bridge:
    description: Name of the new bridge (1-15 letters, digits, C(-), C(_) or C(.)).
    type: str
    default: br0
  stp:
    description: Turn spanning tree on (it stalls traffic for about 30 s during the conversion).
    type: bool
    default: false
  ipv4:
    description: Static IPv4 addresses with prefix for the bridge, replacing the interface's.
    type: list
    elements: str
  gateway:
    description: IPv4 gateway for the bridge.
    type: str
  ipv6:
    description: Static IPv6 addresses with prefix for the bridge, replacing the interface's.
    type: list
    elements: str
  gateway6:
    description: IPv6 gateway for the bridge.
    type: str
  ipv6_auto:
    description: The bridge configures IPv6 from router advertisements.
    type: bool
    default: false
  dhcp:
    description: The bridge gets its IPv4 address by DHCP.
    type: bool
    default: false
  dns:
    description: DNS servers, IPv4 or IPv6, replacing the interface's.
    type: list
    elements: str
  dns_search:
    description: DNS search domains.
    type: list
    elements: str
  probes:
    description:
      - Extra checks that must pass after the change, C(tcp:HOST:PORT) or C(ping:IPV4).
      - The gateway (and, over SSH, the controller) is probed anyway unless O(no_probe).
    type: list
    elements: str
  no_probe:
    description: Do not probe the gateway, the DHCP lease or the SSH peer (O(probes) still run).
    type: bool
    default: false
  rollback_timeout:
    description:
      - Seconds (1-3600) NetworkManager waits before restoring the host by itself if bridgeify
        dies. bridgeify's default is 30.
    type: int
  confirm:
    description:
      - Leave the change pending for this many seconds (10-86400); it reverts by itself unless a
        later task runs O(operation=confirm).
    type: int
  executable:
    description: Path of C(bridgeify) on the target (default C(bridgeify) on C(PATH)).
    type: path
notes:
  - bridgeify's results, states and exit codes are described in docs/bridgeify.md of
    swift-networkmanager.
requirements:
  - swift-networkmanager-tools (C(bridgeify)) and NetworkManager on the target
'''

EXAMPLES = r'''
- name: Move eno1's configuration onto br0
  swiftnm.network.bridgeify:
    interface: eno1

- name: A new address; pending until confirmed from a new connection
  swiftnm.network.bridgeify:
    interface: eno1
    ipv4: [192.168.1.210/24]
    gateway: 192.168.1.1
    confirm: 120

- name: Confirm once the controller reaches the host again
  swiftnm.network.bridgeify:
    operation: confirm
'''

RETURN = r'''
result:
  description:
    - bridgeify's result, one of C(planned), C(unchanged), C(committed), C(pending), C(rolled-back),
      C(failed), C(rejected); for O(operation=status) also C(none), C(running), C(stale).
  returned: always
  type: str
  sample: committed
state:
  description: Where the host ended, read back from NetworkManager (C(before), C(committed), C(pending), C(needs-attention)).
  returned: when bridgeify reports it
  type: str
  sample: committed
exit_code:
  description: bridgeify's exit code (0, or 4 for a pending conversion and for status; not C(rc), which Ansible would take for failure).
  returned: always
  type: int
  sample: 0
error:
  description: The error's C(code), C(message), C(hint) (and C(step)) when the task failed.
  returned: failure
  type: dict
  sample: {"code": "probe-failed", "message": "gateway 192.168.1.254 did not answer", "hint": "check the gateway"}
bridgeify:
  description: bridgeify's whole JSON document.
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.swiftnm.network.plugins.module_utils.bridgeify import (
    ARGUMENT_SPEC, MUTUALLY_EXCLUSIVE, REQUIRED_IF, check_parameters, command_line, interpret)
from ansible_collections.swiftnm.network.plugins.module_utils.swiftnm_tool import run_tool


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF,
                           mutually_exclusive=MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    run_tool(module, 'bridgeify', check_parameters, command_line, interpret)


if __name__ == '__main__':
    main()
