# Unit tests of the bridgeify module's shared pieces: how bridgeify's JSON document and exit code
# become a task result, the command line, and the checks made on the controller.
# Run with `ansible-test units` (scripts/ansible-sanity --units); the fleet test runs the module
# for real (scripts/test-fleet).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.swiftnm.network.plugins.module_utils.bridgeify import (
    ParameterProblem, check_parameters, command_line, interpret, plan_diff)

CONVERT = dict(operation='convert', interface='eno1', bridge='br0')


def test_committed_is_a_change():
    r = interpret(dict(result='committed', state='committed'), 0, CONVERT, False)
    assert r['changed'] is True and 'failed' not in r and r['exit_code'] == 0


def test_unchanged_is_not_a_change():
    r = interpret(dict(result='unchanged', state='committed'), 0, CONVERT, False)
    assert r['changed'] is False and 'failed' not in r


def test_plan_with_nothing_to_do_is_not_a_change():
    doc = dict(result='planned', plan=dict(steps=[dict(kind='add', profile='br0', alreadyDone=True)]))
    assert interpret(doc, 0, CONVERT, True)['changed'] is False
    doc['plan']['steps'].append(dict(kind='activate', profile='br0', alreadyDone=False))
    assert interpret(doc, 0, CONVERT, True)['changed'] is True


def test_pending_is_a_success_of_convert():
    r = interpret(dict(result='pending', state='pending'), 4, CONVERT, False)
    assert r['changed'] is True and 'failed' not in r


@pytest.mark.parametrize('result,rc', [('rolled-back', 1), ('rejected', 2), ('failed', 3)])
def test_failures_carry_code_message_and_hint(result, rc):
    error = dict(code='probe-failed', message='192.168.1.254 did not answer', hint='check the gateway', step='probe')
    r = interpret(dict(result=result, state='before', error=error), rc, CONVERT, False)
    assert r['failed'] is True and r['error'] == error
    assert 'probe-failed' in r['msg'] and 'check the gateway' in r['msg'] and r['msg'].startswith(result)


def test_needs_attention_fails_even_with_exit_0():
    r = interpret(dict(result='committed', state='needs-attention', differences=['br0 missing']), 0, CONVERT, False)
    assert r['failed'] is True and 'br0 missing' in r['msg']


def test_rollback_operation_succeeds_when_rolled_back():
    r = interpret(dict(result='rolled-back', state='before'), 0, dict(operation='rollback'), False)
    assert r['changed'] is True and 'failed' not in r


def test_status_never_changes():
    r = interpret(dict(result='pending', pending=[dict(state='awaiting-confirmation')]), 4, dict(operation='status'), False)
    assert r['changed'] is False and 'failed' not in r


def test_command_line_puts_the_interface_after_double_dash_and_dry_run_in_check_mode():
    params = dict(CONVERT, ipv4=['192.168.1.210/24'], gateway='192.168.1.1', dns=['192.0.2.53'],
                  probes=['tcp:192.168.1.10:22'], stp=True, confirm=120, rollback_timeout=40)
    argv = command_line('/usr/bin/bridgeify', params, True)
    assert argv[:3] == ['/usr/bin/bridgeify', 'convert', '--json']
    assert argv[-2:] == ['--', 'eno1'] and '--dry-run' in argv and '--stp' in argv
    assert argv[argv.index('--ipv4') + 1] == '192.168.1.210/24' and argv[argv.index('--confirm') + 1] == '120'
    assert '--dry-run' not in command_line('bridgeify', params, False)


def test_confirm_in_check_mode_only_reads_status():
    assert command_line('bridgeify', dict(operation='confirm'), True) == ['bridgeify', 'status', '--json']
    assert command_line('bridgeify', dict(operation='confirm'), False) == ['bridgeify', 'confirm', '--json']


@pytest.mark.parametrize('params,code', [
    (dict(CONVERT, interface='eno1/x'), 'invalid-interface-name'),
    (dict(CONVERT, interface='a' * 16), 'invalid-interface-name'),
    (dict(CONVERT, interface='all'), 'invalid-interface-name'),
    (dict(CONVERT, interface='eno 1'), 'invalid-interface-name'),
    (dict(CONVERT, bridge='br0;reboot'), 'invalid-bridge-name'),
    (dict(CONVERT, bridge='-x'), 'invalid-bridge-name'),
    (dict(CONVERT, bridge='eno1'), 'invalid-bridge-name'),
    (dict(CONVERT, ipv4=['192.168.1.210']), 'invalid-prefix'),
    (dict(CONVERT, ipv4=['2001:db8::1/64']), 'invalid-address'),
    (dict(CONVERT, gateway='not-an-address'), 'invalid-gateway'),
    (dict(CONVERT, dns=['x']), 'invalid-dns-server'),
    (dict(CONVERT, probes=['http://x']), 'invalid-probe'),
    (dict(CONVERT, rollback_timeout=0), 'invalid-arguments'),
    (dict(CONVERT, confirm=5), 'invalid-arguments'),
])
def test_controller_checks_refuse_what_bridgeify_would(params, code):
    with pytest.raises(ParameterProblem) as info:
        check_parameters(params)
    assert info.value.code == code and info.value.hint


def test_controller_checks_accept_a_full_request():
    check_parameters(dict(CONVERT, ipv4=['192.168.1.210/24'], gateway='192.168.1.1', ipv6=['2001:db8:1::10/64'],
                          gateway6='2001:db8:1::1', dns=['192.0.2.53', '2001:db8::53'],
                          probes=['tcp:192.168.1.10:22', 'ping:192.168.1.1'], rollback_timeout=30, confirm=120))


def test_plan_diff_lists_settings_of_steps_to_do():
    doc = dict(interface='eno1', plan=dict(steps=[
        dict(kind='add', profile='br0', changes=[
            dict(setting='ipv4', key='gateway', before=None, after=dict(signature='s', value='192.168.1.1')),
            dict(setting='ipv4', key='address-data', before=None, after=dict(signature='aa{sv}', value=[
                dict(address=dict(signature='s', value='192.168.1.210'), prefix=dict(signature='u', value=24))]))]),
        dict(kind='supersede', profile='eno1', changes=[
            dict(setting='connection', key='autoconnect', before=dict(signature='b', value=True),
                 after=dict(signature='b', value=False))]),
        dict(kind='add', profile='done', alreadyDone=True, changes=[dict(setting='x', key='y', before=None, after=dict(signature='u', value=1))]),
    ]))
    diff = plan_diff(doc)
    assert 'ipv4.gateway = "192.168.1.1"' in diff['after'] and 'ipv4.gateway' not in diff['before']
    assert 'ipv4.address-data = [{"address": "192.168.1.210", "prefix": 24}]' in diff['after']
    assert 'connection.autoconnect = true' in diff['before'] and 'connection.autoconnect = false' in diff['after']
    assert 'x.y' not in diff['after']
