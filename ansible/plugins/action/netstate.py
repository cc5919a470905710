# -*- coding: utf-8 -*-
# The netstate module's action plugin: checks the task's arguments on the controller (the
# argument spec, then the names, addresses and probes bridgeify would refuse) and only then
# sends the module to the host. A bad interface name in the state therefore fails before any
# connection.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.swiftnm.network.plugins.module_utils.netstate import (
    ARGUMENT_SPEC, MUTUALLY_EXCLUSIVE, REQUIRED_IF, ParameterProblem, check_parameters)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False  # connects only in _execute_module, after the checks

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        try:
            dummy, params = self.validate_argument_spec(
                argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF, mutually_exclusive=MUTUALLY_EXCLUSIVE)
            check_parameters(params)
        except AnsibleActionFail as exc:
            result.update(failed=True, changed=False, msg=str(exc),
                          error=dict(code='invalid-arguments', message=str(exc), hint='see the module documentation'))
            return result
        except ParameterProblem as problem:
            result.update(problem.as_result())
            return result
        # The task's own arguments (not the normalised ones): the module applies the same spec.
        result.update(self._execute_module(module_name='swiftnm.network.netstate',
                                           module_args=self._task.args, task_vars=task_vars))
        return result
