# Unit tests of the netstate module's shared pieces: how netstate's JSON document and exit code
# become a task result, the command line and standard input, and the checks made on the
# controller. Run with `ansible-test units` (scripts/ansible-sanity); the fleet test runs the
# module for real (scripts/test-fleet).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.swiftnm.network.plugins.module_utils.netstate import (
    ParameterProblem, StateProblem, check_parameters, command_line, interpret, plan_diff, state_input)

BRIDGE = dict(interfaces=[
    dict(name='br0', type='linux-bridge', ipv4=dict(enabled=True, address=[dict(ip='192.168.1.200', **{'prefix-length': 24})]),
         bridge=dict(port=[dict(name='eno1')]))])
APPLY = dict(operation='apply', state=BRIDGE)


def test_committed_is_a_change():
    r = interpret(dict(command='apply', result='committed', state='committed'), 0, APPLY, False)
    assert r['changed'] is True and 'failed' not in r and r['exit_code'] == 0 and r['netstate']['result'] == 'committed'


def test_unchanged_is_not_a_change():
    r = interpret(dict(result='unchanged', state='before'), 0, APPLY, False)
    assert r['changed'] is False and 'failed' not in r


def test_plan_with_nothing_to_do_is_not_a_change():
    doc = dict(result='planned', state='before', plan=dict(steps=[dict(kind='ensure', profile='br0', alreadyDone=True)]))
    assert interpret(doc, 0, APPLY, True)['changed'] is False
    doc['plan']['steps'].append(dict(kind='activate', profile='br0', alreadyDone=False))
    r = interpret(doc, 0, APPLY, True)
    assert r['changed'] is True and 'failed' not in r


def test_dry_run_unchanged_is_not_a_change():
    assert interpret(dict(result='unchanged', state='before'), 0, APPLY, True)['changed'] is False


def test_pending_is_a_success_of_apply():
    r = interpret(dict(result='pending', state='pending'), 4, dict(APPLY, confirm=60), False)
    assert r['changed'] is True and 'failed' not in r


@pytest.mark.parametrize('result,rc,state', [('rolled-back', 1, 'before'), ('rejected', 2, 'before'),
                                             ('failed', 3, 'needs-attention')])
def test_failures_carry_code_path_message_and_hint(result, rc, state):
    error = dict(code='invalid-state', path='interfaces[0].mtuu', message='unknown key', hint="did you mean 'mtu'?")
    r = interpret(dict(result=result, state=state, error=error), rc, APPLY, False)
    assert r['failed'] is True and r['error'] == error
    assert r['msg'].startswith(result + ': interfaces[0].mtuu: unknown key (invalid-state)')
    assert "did you mean 'mtu'?" in r['msg']


def test_rejected_is_not_a_change_and_rolled_back_apply_is_not_a_change():
    assert interpret(dict(result='rejected', state='before'), 2, APPLY, False)['changed'] is False
    assert interpret(dict(result='rolled-back', state='before'), 1, APPLY, False)['changed'] is False


def test_needs_attention_fails_even_with_exit_0():
    r = interpret(dict(result='committed', state='needs-attention'), 0, APPLY, False)
    assert r['failed'] is True and 'needs attention' in r['msg']


def test_rollback_operation_succeeds_when_rolled_back():
    # netstate exits 0 for a rollback asked for and done.
    r = interpret(dict(command='rollback', result='rolled-back', state='before'), 0, dict(operation='rollback'), False)
    assert r['changed'] is True and 'failed' not in r


def test_confirm_with_nothing_pending_fails():
    error = dict(code='nothing-pending', message='no netstate change is waiting for confirmation', hint='netstate status')
    r = interpret(dict(command='confirm', result='rejected', error=error), 2, dict(operation='confirm'), False)
    assert r['failed'] is True and 'nothing-pending' in r['msg'] and r['changed'] is False


def test_status_never_changes_nor_fails():
    r = interpret(dict(command='status', result='pending', pending=[dict(label='netstate apply')]), 4,
                  dict(operation='status'), False)
    assert r['changed'] is False and 'failed' not in r
    r = interpret(dict(command='status', result='none', pending=[]), 0, dict(operation='status'), False)
    assert r['changed'] is False and 'failed' not in r


def test_confirm_in_check_mode_changes_only_when_something_is_pending():
    params = dict(operation='confirm')
    assert interpret(dict(result='pending', pending=[dict(label='netstate')]), 4, params, True)['changed'] is True
    assert interpret(dict(result='none', pending=[]), 0, params, True)['changed'] is False


def test_command_line_inline_state_reads_stdin_after_double_dash():
    argv = command_line('/usr/bin/netstate', dict(APPLY, confirm=120, no_probe=True, bus_address='unix:path=/x'), False)
    assert argv[:3] == ['/usr/bin/netstate', 'apply', '--json'] and argv[-2:] == ['--', '-']
    assert argv[argv.index('--confirm') + 1] == '120' and '--no-probe' in argv and '--dry-run' not in argv
    assert argv[argv.index('--address') + 1] == 'unix:path=/x'


def test_command_line_check_mode_is_dry_run_and_src_is_the_file():
    argv = command_line('netstate', dict(operation='apply', src='-odd/host.yml'), True)
    assert '--dry-run' in argv and argv[-2:] == ['--', '-odd/host.yml']
    assert state_input(dict(operation='apply', src='/etc/host.yml')) is None


def test_confirm_in_check_mode_only_reads_status():
    assert command_line('netstate', dict(operation='confirm'), True) == ['netstate', 'status', '--json']
    assert command_line('netstate', dict(operation='rollback'), False) == ['netstate', 'rollback', '--json']


def test_state_input_is_the_state_as_json():
    assert json.loads(state_input(APPLY)) == BRIDGE
    assert state_input(dict(operation='status')) is None


@pytest.mark.parametrize('state,path', [
    (dict(interface=[]), 'interface'),
    (dict(interfaces=dict(name='eno1')), 'interfaces'),
    (dict(interfaces=['eno1']), 'interfaces[0]'),
    (dict(interfaces=[dict(name='eno1'), dict(name='eno1/x')]), 'interfaces[1].name'),
    (dict(interfaces=[dict(name='a' * 16)]), 'interfaces[0].name'),
    (dict(interfaces=[dict(type='ethernet')]), 'interfaces[0].name'),
    (dict(interfaces=[dict(name=7)]), 'interfaces[0].name'),
])
def test_controller_checks_refuse_a_malformed_state_with_its_path(state, path):
    with pytest.raises(StateProblem) as info:
        check_parameters(dict(operation='apply', state=state))
    assert info.value.code == 'invalid-state' and info.value.path == path and info.value.hint
    result = info.value.as_result()
    assert result['failed'] is True and result['changed'] is False and result['error']['path'] == path


@pytest.mark.parametrize('confirm', [0, -5, 86401])
def test_controller_checks_refuse_a_confirm_out_of_range(confirm):
    with pytest.raises(ParameterProblem) as info:
        check_parameters(dict(APPLY, confirm=confirm))
    assert info.value.code == 'invalid-arguments'


def test_controller_checks_accept_a_full_state_and_other_operations():
    check_parameters(dict(APPLY, confirm=120, state=dict(
        BRIDGE, routes=dict(config=[dict(destination='0.0.0.0/0')]), **{'dns-resolver': dict(config=dict(server=['192.0.2.53']))})))
    check_parameters(dict(operation='apply', src='/etc/host.yml'))
    check_parameters(dict(operation='confirm', state=dict(nonsense=1)))  # ignored: not applied


def test_plan_diff_is_the_plans_settings():
    doc = dict(result='planned', plan=dict(steps=[
        dict(kind='ensure', profile='br0', changes=[
            dict(setting='connection', key='interface-name', before=None, after=dict(signature='s', value='br0'))])]))
    diff = plan_diff(doc)
    assert 'connection.interface-name = "br0"' in diff['after'] and diff['before_header'] == 'host (now)'
