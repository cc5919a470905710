# -*- coding: utf-8 -*-
# The bridgeify module's own pieces: the argument spec, the checks that need no host, the
# command line, and when bridgeify's JSON document is a change or a failure. What it shares
# with the netstate module (the module's run, the diff, the result's fields and message, the
# interface name rules) is in swiftnm_tool.py.
#
# Used on the controller by the action plugin (plugins/action/bridgeify.py: a bad argument fails
# there, before anything is sent to the host) and on the target by the module itself (the same
# checks again, for a module run without its action plugin).
#
# bridgeify's JSON document, results and exit codes: docs/bridgeify.md in swift-networkmanager.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.swiftnm.network.plugins.module_utils.swiftnm_tool import (
    OK_EXIT, ParameterProblem, changed_by, interface_name_problem, plan_diff, tool_result)

ARGUMENT_SPEC = dict(
    operation=dict(type='str', default='convert', choices=['convert', 'confirm', 'rollback', 'status']),
    interface=dict(type='str'),
    bridge=dict(type='str', default='br0'),
    stp=dict(type='bool', default=False),
    ipv4=dict(type='list', elements='str'),
    gateway=dict(type='str'),
    ipv6=dict(type='list', elements='str'),
    gateway6=dict(type='str'),
    ipv6_auto=dict(type='bool', default=False),
    dhcp=dict(type='bool', default=False),
    dns=dict(type='list', elements='str'),
    dns_search=dict(type='list', elements='str'),
    probes=dict(type='list', elements='str'),
    no_probe=dict(type='bool', default=False),
    rollback_timeout=dict(type='int'),
    confirm=dict(type='int'),
    executable=dict(type='path'),
    bus_address=dict(type='str'),
)

REQUIRED_IF = [('operation', 'convert', ('interface',))]
MUTUALLY_EXCLUSIVE = [('dhcp', 'ipv4'), ('dhcp', 'gateway')]

# ParameterProblem, interface_name_problem and plan_diff are swiftnm_tool's, kept importable
# from here.
__all__ = ['ARGUMENT_SPEC', 'REQUIRED_IF', 'MUTUALLY_EXCLUSIVE', 'ParameterProblem', 'check_parameters',
           'command_line', 'interface_name_problem', 'interpret', 'plan_diff']

_CREATED_NAME = re.compile(r'^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,14}$')
_PROBE = re.compile(r'^(tcp:[A-Za-z0-9.:\[\]-]+:[0-9]{1,5}|ping:[0-9.]+)$')


def _address(text, what, code, with_prefix):
    try:
        if with_prefix:
            if '/' not in text:
                raise ParameterProblem('invalid-prefix', '%s %r has no prefix' % (what, text),
                                       'write it as ADDRESS/PREFIX, such as 192.168.1.200/24')
            return ipaddress.ip_interface(text)
        return ipaddress.ip_address(text)
    except ValueError as exc:
        raise ParameterProblem(code, '%s %r is not an address: %s' % (what, text, exc),
                               'give an address such as 192.168.1.1')


def check_parameters(params):
    """The checks that need no host. Raises ParameterProblem; bridgeify checks again (and more)."""
    if params.get('operation', 'convert') != 'convert':
        return
    interface = params.get('interface')
    problem = interface_name_problem(interface or '')
    if problem:
        raise ParameterProblem('invalid-interface-name', 'invalid interface name %r: %s' % (interface, problem),
                               'give the Ethernet interface as the kernel names it, such as eno1')
    bridge = params.get('bridge') or 'br0'
    problem = interface_name_problem(bridge)
    if problem is None and not _CREATED_NAME.match(bridge):
        problem = "use letters, digits, '-', '_' and '.' only, not starting with '-'"
    if problem:
        raise ParameterProblem('invalid-bridge-name', 'invalid bridge name %r: %s' % (bridge, problem),
                               'name the new bridge with 1-15 letters, digits, - _ or ., such as br0')
    if bridge == interface:
        raise ParameterProblem('invalid-bridge-name', 'the bridge cannot have the interface\'s own name',
                               'choose another bridge name, such as br0')
    for text in params.get('ipv4') or []:
        if _address(text, 'ipv4', 'invalid-address', True).version != 4:
            raise ParameterProblem('invalid-address', 'ipv4 %r is not an IPv4 address' % text, 'use ipv6 for IPv6')
    for text in params.get('ipv6') or []:
        if _address(text, 'ipv6', 'invalid-address', True).version != 6:
            raise ParameterProblem('invalid-address', 'ipv6 %r is not an IPv6 address' % text, 'use ipv4 for IPv4')
    if params.get('gateway') and _address(params['gateway'], 'gateway', 'invalid-gateway', False).version != 4:
        raise ParameterProblem('invalid-gateway', 'gateway must be IPv4', 'use gateway6 for IPv6')
    if params.get('gateway6') and _address(params['gateway6'], 'gateway6', 'invalid-gateway', False).version != 6:
        raise ParameterProblem('invalid-gateway', 'gateway6 must be IPv6', 'use gateway for IPv4')
    for text in params.get('dns') or []:
        _address(text, 'dns', 'invalid-dns-server', False)
    for text in params.get('probes') or []:
        if not _PROBE.match(text):
            raise ParameterProblem('invalid-probe', 'probe %r is not tcp:HOST:PORT or ping:IPV4' % text,
                                   'such as tcp:192.168.1.10:22 or ping:192.168.1.1')
    timeout = params.get('rollback_timeout')
    if timeout is not None and not 1 <= timeout <= 3600:
        raise ParameterProblem('invalid-arguments', 'rollback_timeout %d is outside 1...3600 seconds' % timeout,
                               'the default, 30 s, suits most hosts')
    confirm = params.get('confirm')
    if confirm is not None and not 10 <= confirm <= 86400:
        raise ParameterProblem('invalid-arguments', 'confirm %d is outside 10...86400 seconds' % confirm,
                               'give time to reconnect and confirm, such as 120')


def command_line(executable, params, check_mode):
    """bridgeify's argument vector for PARAMS (checked), with --json; --dry-run in check mode."""
    operation = params.get('operation') or 'convert'
    if operation != 'convert':
        # In check mode, confirm and rollback only look: status says what they would act on.
        argv = [executable, 'status' if check_mode else operation, '--json']
    else:
        argv = [executable, 'convert', '--json', '--bridge', params.get('bridge') or 'br0']
        for key, flag in (('ipv4', '--ipv4'), ('ipv6', '--ipv6'), ('dns', '--dns'),
                          ('dns_search', '--dns-search'), ('probes', '--probe')):
            for value in params.get(key) or []:
                argv += [flag, value]
        for key, flag in (('gateway', '--gateway'), ('gateway6', '--gateway6'),
                          ('rollback_timeout', '--rollback-timeout'), ('confirm', '--confirm')):
            if params.get(key) is not None:
                argv += [flag, str(params[key])]
        for key, flag in (('stp', '--stp'), ('dhcp', '--dhcp'), ('ipv6_auto', '--ipv6-auto'),
                          ('no_probe', '--no-probe')):
            if params.get(key):
                argv.append(flag)
        if check_mode:
            argv.append('--dry-run')
    if params.get('bus_address'):
        argv += ['--address', params['bus_address']]
    if operation == 'convert':
        argv += ['--', params['interface']]
    return argv


def interpret(document, rc, params, check_mode):
    """The module's result for bridgeify's JSON DOCUMENT and exit code RC."""
    operation = params.get('operation') or 'convert'
    if check_mode and operation != 'convert':
        pending = document.get('pending') or []
        changed = bool(pending) if operation == 'rollback' else any(
            p.get('state') == 'awaiting-confirmation' or p.get('state') == 'stale' for p in pending)
    else:
        changed = changed_by(document, operation, ('unchanged', 'none', 'running', 'stale', 'rejected'))
    state = document.get('state')
    failed = rc not in OK_EXIT or state == 'needs-attention'
    if operation == 'convert' and rc == 4 and document.get('result') != 'pending':
        failed = True
    return tool_result('bridgeify', document, rc, changed, failed,
                       ': %s' % '; '.join(document.get('differences') or []))
