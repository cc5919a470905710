# -*- coding: utf-8 -*-
# What the bridgeify and netstate modules share: both run a swift-networkmanager command with
# --json and turn its JSON document into a task result. The commands use the same result words
# and exit codes (0 planned/unchanged/committed, 1 rolled-back, 2 rejected, 3 failed,
# 4 pending) and the same plan type, so the module's run, the diff, the result's fields and its
# failure message are written once here; each tool's module_utils keeps what is its own (the
# argument spec, the checks, the command line, when a result is a change or a failure).
#
# Used on the target by the modules and on the controller by the action plugins (through
# ParameterProblem and interface_name_problem). Imports nothing of Ansible's, so that the
# action plugins can load it too.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# Exit codes that end a run well: 0, and 4 (pending) where it is the answer asked for. The
# tools' modules fail a task for anything else.
OK_EXIT = (0, 4)


class ParameterProblem(Exception):
    """A parameter the tool would refuse; `code` is the tool's own error code."""

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


def steps_to_do(document):
    """The plan's steps that are not already done (a dry run with none changes nothing)."""
    return [s for s in (document.get('plan') or {}).get('steps') or [] if not s.get('alreadyDone')]


def changed_by(document, operation, unchanged_results):
    """Whether a run that was not a check-mode confirm/rollback/status changed the host:
    a plan with a step to do, a rollback that rolled back, or a result that leaves the host
    other than before (committed, pending, failed) for any operation but status.
    UNCHANGED_RESULTS are the tool's result words that never change anything."""
    result_word = document.get('result')
    if result_word == 'planned':
        return bool(steps_to_do(document))
    if result_word in unchanged_results:
        return False
    if result_word == 'rolled-back':
        return operation == 'rollback'
    return operation != 'status'  # committed, pending, failed (the host is not as before)


def tool_result(tool, document, rc, changed, failed, attention):
    """The task result for TOOL's JSON DOCUMENT and exit code RC: `result`, `state`,
    `exit_code` (not 'rc': Ansible fails any result whose rc is not 0, and pending (4) is a
    success here), the whole document under the tool's name, and `msg`. When FAILED, also
    `failed` and `error`, and `msg` is `RESULT: [PATH: ]MESSAGE (CODE); hint: HINT`, followed
    by ATTENTION (what the tool says about a host that needs attention) when the state is
    needs-attention."""
    result_word = document.get('result')
    state = document.get('state')
    out = dict(changed=changed, result=result_word, state=state, exit_code=rc)
    out[tool] = document
    if failed:
        error = document.get('error') or {}
        out['failed'] = True
        out['error'] = error
        message = error.get('message') or document.get('summary') or '%s failed' % tool
        if error.get('path'):
            message = '%s: %s' % (error['path'], message)
        msg = '%s: %s' % (result_word, message)
        if error.get('code'):
            msg = '%s (%s)' % (msg, error['code'])
        if error.get('hint'):
            msg += '; hint: %s' % error['hint']
        if state == 'needs-attention':
            msg += '; the host needs attention' + attention
        out['msg'] = msg
    else:
        out['msg'] = document.get('summary') or result_word
    return out


def run_tool(module, tool, check_parameters, command_line, interpret, state_input=None):
    """A module's run on the target: checks MODULE's parameters again, runs TOOL (the
    `executable` parameter, else TOOL on PATH) with COMMAND_LINE's arguments, and exits with
    INTERPRET's result for its JSON document, a diff of the plan with --diff. STATE_INPUT,
    if given, says what the tool reads on standard input."""
    params = module.params
    try:
        check_parameters(params)
    except ParameterProblem as problem:
        module.fail_json(**problem.as_result())

    executable = params['executable'] or module.get_bin_path(tool, required=True)
    argv = command_line(executable, params, module.check_mode)
    if state_input is None:
        rc, out, err = module.run_command(argv)
    else:
        rc, out, err = module.run_command(argv, data=state_input(params), binary_data=True)
    try:
        document = json.loads(out)
    except ValueError:
        module.fail_json(msg='%s printed no JSON document (exit %d): %s' % (tool, rc, err.strip()[-2000:]),
                         exit_code=rc, stdout=out, stderr=err, cmd=argv)
    result = interpret(document, rc, params, module.check_mode)
    result['cmd'] = argv
    if module._diff and document.get('plan'):
        result['diff'] = plan_diff(document)
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)
