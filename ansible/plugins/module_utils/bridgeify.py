# -*- coding: utf-8 -*-
# The bridgeify module's shared pieces: the argument spec, the checks that need no host, the
# command line, and how bridgeify's JSON document becomes a module result.
#
# Used on the controller by the action plugin (plugins/action/bridgeify.py: a bad argument fails
# there, before anything is sent to the host) and on the target by the module itself (the same
# checks again, for a module run without its action plugin).
#
# bridgeify's JSON document, results and exit codes: docs/bridgeify.md in swift-networkmanager.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import re

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

# Results that end a run well, per bridgeify's exit codes: 0, and 4 (pending) where it is the
# answer asked for. Everything else fails the task.
_OK_EXIT = (0, 4)

_CREATED_NAME = re.compile(r'^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,14}$')
_PROBE = re.compile(r'^(tcp:[A-Za-z0-9.:\[\]-]+:[0-9]{1,5}|ping:[0-9.]+)$')


class ParameterProblem(Exception):
    """A parameter bridgeify would refuse; `code` is bridgeify's own error code."""

    def __init__(self, code, message, hint):
        super(ParameterProblem, self).__init__(message)
        self.code = code
        self.message = message
        self.hint = hint

    def as_result(self):
        return dict(
            failed=True, changed=False,
            msg='%s: %s (hint: %s)' % (self.code, self.message, self.hint),
            error=dict(code=self.code, message=self.message, hint=self.hint),
        )


def interface_name_problem(name):
    """Why the kernel or NetworkManager would refuse NAME as an interface name, or None."""
    if not name:
        return 'it is empty'
    if len(name.encode('utf-8')) > 15:
        return 'it is longer than 15 bytes'
    if name in ('.', '..', 'all', 'default', 'bonding_masters'):
        return "'%s' is reserved" % name
    for ch in name:
        if ch in '/:%' or ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7f or ch == '\u00a0':
            return 'it contains %r' % ch
    return None


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


def plain_value(value):
    """A plan value without its D-Bus types: the library writes each value as
    {"signature": ..., "value": ...}, variants nested the same way; this keeps the data."""
    if isinstance(value, dict) and set(value) == {'signature', 'value'}:
        return plain_value(value['value'])
    if isinstance(value, dict):
        return dict((k, plain_value(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    return value


def value_text(value):
    """One plan value as a line of the diff: JSON of its data, keys sorted."""
    return json.dumps(plain_value(value), sort_keys=True)


def plan_diff(document):
    """The plan as Ansible's diff: one line per profile and per setting, before and after."""
    plan = document.get('plan') or {}
    before, after = [], []
    for step in plan.get('steps') or []:
        if step.get('alreadyDone'):
            continue
        head = '%s %s' % (step.get('kind', '?'), step.get('profile') or step.get('uuid') or '')
        before.append('# ' + head)
        after.append('# ' + head)
        for change in step.get('changes') or []:
            key = '%s.%s' % (change.get('setting'), change.get('key'))
            if change.get('before') is not None:
                before.append('%s = %s' % (key, value_text(change['before'])))
            if change.get('after') is not None:
                after.append('%s = %s' % (key, value_text(change['after'])))
    return dict(before='\n'.join(before) + '\n', after='\n'.join(after) + '\n',
                before_header='%s (now)' % document.get('interface', 'host'),
                after_header='%s (planned)' % document.get('interface', 'host'))


def interpret(document, rc, params, check_mode):
    """The module's result for bridgeify's JSON DOCUMENT and exit code RC."""
    operation = params.get('operation') or 'convert'
    result_word = document.get('result')
    state = document.get('state')
    steps_to_do = [s for s in (document.get('plan') or {}).get('steps') or [] if not s.get('alreadyDone')]
    if check_mode and operation != 'convert':
        pending = document.get('pending') or []
        changed = bool(pending) if operation == 'rollback' else any(
            p.get('state') == 'awaiting-confirmation' or p.get('state') == 'stale' for p in pending)
    elif result_word == 'planned':
        changed = bool(steps_to_do)
    elif result_word in ('unchanged', 'none', 'running', 'stale', 'rejected'):
        changed = False
    elif result_word == 'rolled-back':
        changed = operation == 'rollback'
    else:  # committed, pending, failed (the host is not as before)
        changed = operation != 'status'
    # Not 'rc': Ansible fails any result whose rc is not 0, and pending (4) is a success here.
    out = dict(changed=changed, result=result_word, state=state, exit_code=rc, bridgeify=document)
    failed = rc not in _OK_EXIT or state == 'needs-attention'
    if operation == 'convert' and rc == 4 and result_word != 'pending':
        failed = True
    if failed:
        error = document.get('error') or {}
        out['failed'] = True
        out['error'] = error
        msg = '%s: %s' % (result_word, error.get('message') or document.get('summary') or 'bridgeify failed')
        if error.get('code'):
            msg = '%s (%s)' % (msg, error['code'])
        if error.get('hint'):
            msg += '; hint: %s' % error['hint']
        if state == 'needs-attention':
            msg += '; the host needs attention: %s' % '; '.join(document.get('differences') or [])
        out['msg'] = msg
    else:
        out['msg'] = document.get('summary') or result_word
    return out
