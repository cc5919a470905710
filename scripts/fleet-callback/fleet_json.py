# A stdout callback for scripts/test-fleet: every task's result per host and the play recap as
# one JSON document (ansible-core no longer ships the `json` callback; ansible.posix has it).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: fleet_json
type: stdout
short_description: task results and stats as one JSON document (scripts/test-fleet)
description: Task results per host and the recap, as one JSON document on stdout.
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'fleet_json'

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.plays = []

    def v2_playbook_on_play_start(self, play):
        self.plays.append({'play': {'name': play.get_name()}, 'tasks': []})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.plays[-1]['tasks'].append({'task': {'name': task.get_name()}, 'hosts': {}})

    def _record(self, result, **extra):
        entry = dict(result._result)
        entry.update(extra)
        for play in reversed(self.plays):
            for task in reversed(play['tasks']):
                if task['task']['name'] == result._task.get_name():
                    task['hosts'][result._host.get_name()] = entry
                    return

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True)

    def v2_playbook_on_stats(self, stats):
        summary = {}
        for host in sorted(stats.processed.keys()):
            summary[host] = stats.summarize(host)
        self._display.display(json.dumps({'plays': self.plays, 'stats': summary}, default=str, indent=1))
