# Unit tests of what the two modules share (plugins/module_utils/swiftnm_tool.py): the module's
# run on the target (run_tool) with a stand-in for AnsibleModule that records the command it
# would run, and the result's message. interpret's cases are in test_bridgeify.py and
# test_netstate.py. Run with `ansible-test units` (scripts/ansible-sanity).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.swiftnm.network.plugins.module_utils import bridgeify, netstate
from ansible_collections.swiftnm.network.plugins.module_utils.swiftnm_tool import run_tool, tool_result


class Exited(Exception):
    def __init__(self, failed, result):
        super(Exited, self).__init__(result.get('msg'))
        self.failed = failed
        self.result = result


class FakeModule(object):
    """AnsibleModule's part run_tool uses; run_command answers with REPLY and records its call."""

    def __init__(self, params, reply, check_mode=False, diff=False):
        self.params = dict(executable='/usr/bin/tool', bus_address=None, **params)
        self.reply = reply
        self.check_mode = check_mode
        self._diff = diff
        self.calls = []

    def get_bin_path(self, name, required=False):
        return '/usr/bin/' + name

    def run_command(self, argv, **kwargs):
        self.calls.append((argv, kwargs))
        return self.reply

    def fail_json(self, **result):
        raise Exited(True, result)

    def exit_json(self, **result):
        raise Exited(False, result)


def run(module, tool, utils, **kwargs):
    with pytest.raises(Exited) as info:
        run_tool(module, tool, utils.check_parameters, utils.command_line, utils.interpret, **kwargs)
    return info.value


PLAN = dict(result='planned', state='before', interface='eno1',
            plan=dict(steps=[dict(kind='add', profile='br0', changes=[dict(setting='ipv4', key='gateway', after='192.168.1.1')])]))


def test_bridgeify_runs_without_standard_input_and_reports_the_command():
    module = FakeModule(dict(operation='convert', interface='eno1', bridge='br0'),
                        (0, json.dumps(dict(result='committed', state='committed', summary='done')), ''))
    exited = run(module, 'bridgeify', bridgeify)
    assert not exited.failed and exited.result['changed'] is True and exited.result['msg'] == 'done'
    argv, kwargs = module.calls[0]
    assert kwargs == {} and argv[:2] == ['/usr/bin/tool', 'convert'] and exited.result['cmd'] == argv
    assert 'diff' not in exited.result


def test_netstate_sends_the_state_on_standard_input():
    state = dict(interfaces=[dict(name='br0', type='linux-bridge')])
    module = FakeModule(dict(operation='apply', state=state, src=None, confirm=None, no_probe=False),
                        (0, json.dumps(dict(result='unchanged', state='before')), ''))
    exited = run(module, 'netstate', netstate, state_input=netstate.state_input)
    argv, kwargs = module.calls[0]
    assert argv[-2:] == ['--', '-'] and kwargs == dict(data=json.dumps(state, sort_keys=True), binary_data=True)
    assert not exited.failed and exited.result['changed'] is False and exited.result['netstate']['result'] == 'unchanged'


def test_the_plan_is_a_diff_only_with_diff_mode():
    reply = (0, json.dumps(PLAN), '')
    with_diff = run(FakeModule(dict(operation='convert', interface='eno1'), reply, check_mode=True, diff=True), 'bridgeify', bridgeify)
    assert with_diff.result['diff']['after'] == '# add br0\nipv4.gateway = "192.168.1.1"\n'
    without = run(FakeModule(dict(operation='convert', interface='eno1'), reply, check_mode=True), 'bridgeify', bridgeify)
    assert 'diff' not in without.result and without.result['changed'] is True


def test_no_json_document_fails_with_the_tools_name_exit_code_and_stderr():
    module = FakeModule(dict(operation='convert', interface='eno1'), (1, 'not json', 'Error: boom\n'))
    exited = run(module, 'bridgeify', bridgeify)
    assert exited.failed and exited.result['msg'] == 'bridgeify printed no JSON document (exit 1): Error: boom'
    assert exited.result['exit_code'] == 1 and exited.result['stdout'] == 'not json'


def test_a_parameter_problem_fails_before_the_tool_runs():
    module = FakeModule(dict(operation='convert', interface='eno 1'), (0, '{}', ''))
    exited = run(module, 'bridgeify', bridgeify)
    assert exited.failed and exited.result['error']['code'] == 'invalid-interface-name' and module.calls == []


def test_failure_message_has_path_code_hint_and_attention():
    doc = dict(result='failed', state='needs-attention', error=dict(code='x', path='routes[0]', message='m', hint='h'))
    r = tool_result('netstate', doc, 3, True, True, ' (detail)')
    assert r['msg'] == 'failed: routes[0]: m (x); hint: h; the host needs attention (detail)'
    assert r['failed'] is True and r['netstate'] is doc and r['exit_code'] == 3
    ok = tool_result('bridgeify', dict(result='committed'), 0, True, False, '')
    assert ok['msg'] == 'committed' and 'failed' not in ok and 'error' not in ok
