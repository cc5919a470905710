#!/usr/bin/python
# -*- coding: utf-8 -*-
# Runs the netstate command of swift-networkmanager on the target (`netstate apply - --json`, the
# desired state on standard input) and reports its JSON document. docs/netstate.md (the command)
# and docs/ansible.md (this collection).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: netstate
short_description: Bring a host's network to a desired state (nmstate's schema) as one transaction
version_added: "0.1.0"
description:
  - Runs C(netstate apply) (Debian package C(swift-networkmanager-tools)) on the target with C(--json).
  - The desired state is in nmstate's schema (the subset C(netstate) supports, see docs/netstate.md),
    C(interfaces), C(routes), C(dns-resolver). Give it inline with O(state), sent to C(netstate) on
    standard input, or as a YAML or JSON file on the target with O(src).
  - C(netstate) applies it as one NetworkManager transaction under a checkpoint. If activation,
    verification or the gateway probe fails, the host is restored and the task fails with the
    error's code, message and hint. A state C(netstate) refuses fails with the key's path and
    changes nothing.
  - Check mode runs C(netstate apply --dry-run), which shows the plan and changes nothing. With
    C(--diff) the plan is shown as a diff.
  - C(changed) is false when the host already is in the state (C(unchanged)), and in check mode
    when the plan has nothing to do.
  - The shape of O(state) (its top-level keys, each interface's name) and the other arguments are
    checked on the controller by the action plugin before anything is sent to the host.
author:
  - swift-networkmanager maintainers (@swift-networkmanager)
attributes:
  check_mode:
    description: Runs C(netstate apply --dry-run); reports the plan and changes nothing.
    support: full
extends_documentation_fragment:
  - swiftnm.network.swiftnm_tool
options:
  operation:
    description:
      - C(apply) brings the host to O(state) or O(src). C(confirm) makes a pending change (one
        applied with O(confirm)) permanent; C(rollback) undoes it; C(status) reports it.
      - In check mode C(confirm) and C(rollback) only read the status.
    type: str
    default: apply
    choices: [apply, confirm, rollback, status]
  state:
    description:
      - The desired state, inline, in nmstate's schema (C(interfaces), C(routes), C(dns-resolver)).
      - Only the interfaces, routes and DNS named are touched, and within an interface only the
        keys given.
      - Values keep their YAML types; a value made by a template is a string, which C(netstate)
        refuses where it wants a number or a boolean.
      - One of O(state) and O(src) is required when O(operation=apply).
    type: dict
  src:
    description:
      - Path of a state file (YAML or JSON) on the target.
    type: path
  confirm:
    description:
      - Leave the change pending for this many seconds (1-86400); it reverts by itself unless a
        later task runs O(operation=confirm).
    type: int
  no_probe:
    description: Do not probe the default gateway after verification (C(netstate apply --no-probe)).
    type: bool
    default: false
  executable:
    description: Path of C(netstate) on the target (default C(netstate) on C(PATH)).
    type: path
notes:
  - netstate's results, states and exit codes are described in docs/netstate.md of
    swift-networkmanager; they are bridgeify's.
  - C(netstate) has no rollback timeout option of its own; a change left pending with O(confirm)
    is reverted by NetworkManager when its time is up.
requirements:
  - swift-networkmanager-tools (C(netstate)) and NetworkManager on the target
'''

EXAMPLES = r'''
- name: eno1's configuration on br0 (the seed's addresses)
  swiftnm.network.netstate:
    state:
      interfaces:
        - name: br0
          type: linux-bridge
          ipv4:
            enabled: true
            address:
              - ip: 192.168.1.200
                prefix-length: 24
          bridge:
            port:
              - name: eno1
      routes:
        config:
          - destination: 0.0.0.0/0
            next-hop-address: 192.168.1.1
            next-hop-interface: br0
      dns-resolver:
        config:
          server: [192.0.2.53]

- name: A state file already on the host, pending until confirmed
  swiftnm.network.netstate:
    src: /etc/netstate/host.yml
    confirm: 120

- name: Confirm once the controller reaches the host again
  swiftnm.network.netstate:
    operation: confirm
'''

RETURN = r'''
result:
  description:
    - netstate's result, one of C(planned), C(unchanged), C(committed), C(pending), C(rolled-back),
      C(failed), C(rejected); for O(operation=status) C(none) or C(pending).
  returned: always
  type: str
  sample: committed
state:
  description: Where the host ended, read back from NetworkManager (C(before), C(committed), C(pending), C(needs-attention)).
  returned: when netstate reports it
  type: str
  sample: committed
exit_code:
  description: netstate's exit code (0, or 4 for a pending change and for status; not C(rc), which Ansible would take for failure).
  returned: always
  type: int
  sample: 0
error:
  description: The error's C(code), C(path) (the key in the state), C(message) and C(hint) when the task failed.
  returned: failure
  type: dict
  sample: {"code": "invalid-state", "path": "interfaces[0].mtuu", "message": "unknown key", "hint": "did you mean 'mtu'?"}
netstate:
  description: netstate's whole JSON document.
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.swiftnm.network.plugins.module_utils.netstate import (
    ARGUMENT_SPEC, MUTUALLY_EXCLUSIVE, REQUIRED_IF, check_parameters, command_line, interpret, state_input)
from ansible_collections.swiftnm.network.plugins.module_utils.swiftnm_tool import run_tool


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF,
                           mutually_exclusive=MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    run_tool(module, 'netstate', check_parameters, command_line, interpret, state_input=state_input)


if __name__ == '__main__':
    main()
