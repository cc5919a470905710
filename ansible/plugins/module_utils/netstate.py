# -*- coding: utf-8 -*-
# The netstate module's shared pieces: the argument spec, the checks that need no host, the
# command line, the state sent on standard input, and how netstate's JSON document becomes a
# module result.
#
# Used on the controller by the action plugin (plugins/action/netstate.py: a bad argument fails
# there, before anything is sent to the host) and on the target by the module itself.
#
# netstate's JSON document, results and exit codes: docs/netstate.md in swift-networkmanager.
# They are bridgeify's (0 planned/unchanged/committed, 1 rolled-back, 2 rejected, 3 failed,
# 4 pending), and the plan is the same library type: what the two modules share (the module's
# run, the diff, the result's fields and message) is in swiftnm_tool.py.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.swiftnm.network.plugins.module_utils.swiftnm_tool import (
    OK_EXIT, ParameterProblem, changed_by, interface_name_problem, plan_diff, tool_result)

ARGUMENT_SPEC = dict(
    operation=dict(type='str', default='apply', choices=['apply', 'confirm', 'rollback', 'status']),
    state=dict(type='dict'),
    src=dict(type='path'),
    confirm=dict(type='int'),
    no_probe=dict(type='bool', default=False),
    executable=dict(type='path'),
    bus_address=dict(type='str'),
)

REQUIRED_IF = [('operation', 'apply', ('state', 'src'), True)]
MUTUALLY_EXCLUSIVE = [('state', 'src')]

# netstate's top-level keys (docs/netstate.md); it refuses any other with a "did you mean" hint.
TOP_LEVEL_KEYS = ('interfaces', 'routes', 'dns-resolver')

__all__ = ['ARGUMENT_SPEC', 'REQUIRED_IF', 'MUTUALLY_EXCLUSIVE', 'ParameterProblem', 'StateProblem', 'check_parameters',
           'command_line', 'state_input', 'interpret', 'plan_diff']


class StateProblem(ParameterProblem):
    """A state netstate would refuse: its own code, invalid-state, with the key's path."""

    def __init__(self, path, message, hint):
        super(StateProblem, self).__init__('invalid-state', '%s: %s' % (path, message), hint)
        self.path = path

    def as_result(self):
        result = super(StateProblem, self).as_result()
        result['error']['path'] = self.path
        return result


def _invalid(path, message, hint):
    return StateProblem(path, message, hint)


def check_parameters(params):
    """The checks that need no host. Raises ParameterProblem; netstate checks everything again.

    Only the shape is checked here (the top-level keys, each interface's name): the schema
    itself is netstate's to judge, on the target, before it touches anything."""
    if (params.get('operation') or 'apply') != 'apply':
        return
    confirm = params.get('confirm')
    if confirm is not None and not 1 <= confirm <= 86400:
        raise ParameterProblem('invalid-arguments', 'confirm %d is outside 1...86400 seconds' % confirm,
                               'give time to reconnect and confirm, such as 120')
    state = params.get('state')
    if state is None:
        return
    for key in state:
        if key not in TOP_LEVEL_KEYS:
            raise _invalid(key, 'unknown key', 'the top-level keys are %s' % ', '.join(TOP_LEVEL_KEYS))
    interfaces = state.get('interfaces')
    if interfaces is None:
        return
    if not isinstance(interfaces, list):
        raise _invalid('interfaces', 'is not a list', 'write interfaces as a list of mappings, each with a name')
    for index, interface in enumerate(interfaces):
        path = 'interfaces[%d]' % index
        if not isinstance(interface, dict):
            raise _invalid(path, 'is not a mapping', 'give each interface as a mapping with at least a name')
        name = interface.get('name')
        problem = interface_name_problem(name) if isinstance(name, str) else 'it is not a string'
        if problem:
            raise _invalid(path + '.name', 'invalid interface name %r: %s' % (name, problem),
                           'name the interface as the kernel does, such as eno1 or br0')


def command_line(executable, params, check_mode):
    """netstate's argument vector for PARAMS, with --json; --dry-run in check mode.

    An inline state goes to standard input (`apply -`, see state_input); src is a file on the
    target. The file comes after `--`, so a path starting with '-' is still a path."""
    operation = params.get('operation') or 'apply'
    if operation != 'apply':
        # In check mode, confirm and rollback only look: status says what they would act on.
        argv = [executable, 'status' if check_mode else operation, '--json']
    else:
        argv = [executable, 'apply', '--json']
        if check_mode:
            argv.append('--dry-run')
        if params.get('confirm') is not None:
            argv += ['--confirm', str(params['confirm'])]
        if params.get('no_probe'):
            argv.append('--no-probe')
    if params.get('bus_address'):
        argv += ['--address', params['bus_address']]
    if operation == 'apply':
        argv += ['--', params['src'] if params.get('src') else '-']
    return argv


def state_input(params):
    """What netstate reads on standard input: the inline state as JSON (which its YAML 1.2 reader
    takes as it is), or None when it reads src or runs another operation."""
    if (params.get('operation') or 'apply') != 'apply' or params.get('src'):
        return None
    return json.dumps(params.get('state'), sort_keys=True)


def interpret(document, rc, params, check_mode):
    """The module's result for netstate's JSON DOCUMENT and exit code RC."""
    operation = params.get('operation') or 'apply'
    if check_mode and operation != 'apply':
        # status's answer: pending (exit 4) or none; confirm/rollback would act on a pending one.
        changed = bool(document.get('pending'))
    else:
        changed = changed_by(document, operation, ('unchanged', 'none', 'rejected'))
    state = document.get('state')
    failed = rc not in OK_EXIT or state == 'needs-attention'
    if operation in ('apply', 'confirm', 'rollback') and rc == 4 and document.get('result') != 'pending':
        failed = True
    if operation in ('confirm', 'rollback') and not check_mode and rc == 4:
        failed = True  # confirm and rollback never leave something pending
    return tool_result('netstate', document, rc, changed, failed, ' (neither as before nor committed)')
