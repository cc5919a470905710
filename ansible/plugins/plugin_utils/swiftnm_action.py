# -*- coding: utf-8 -*-
# What the bridgeify and netstate action plugins share (controller side only, hence
# plugin_utils and not module_utils): check the task's arguments on the controller (the
# module's argument spec, then the tool's own checks: names, addresses, probes, the state's
# shape) and only then send the module to the host. A bad argument therefore fails before any
# connection.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.swiftnm.network.plugins.module_utils.swiftnm_tool import ParameterProblem


class ToolAction(ActionBase):
    """An action plugin for one of the tools' modules. A subclass names the module
    (MODULE_NAME) and gives its ARGUMENT_SPEC, REQUIRED_IF, MUTUALLY_EXCLUSIVE and
    check_parameters (from the tool's module_utils)."""

    TRANSFERS_FILES = False
    _requires_connection = False  # connects only in _execute_module, after the checks

    MODULE_NAME = None
    ARGUMENT_SPEC = None
    REQUIRED_IF = None
    MUTUALLY_EXCLUSIVE = None

    def check_parameters(self, params):
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super(ToolAction, self).run(tmp, task_vars)
        del tmp
        try:
            dummy, params = self.validate_argument_spec(
                argument_spec=self.ARGUMENT_SPEC, required_if=self.REQUIRED_IF,
                mutually_exclusive=self.MUTUALLY_EXCLUSIVE)
            self.check_parameters(params)
        except AnsibleActionFail as exc:
            result.update(failed=True, changed=False, msg=str(exc),
                          error=dict(code='invalid-arguments', message=str(exc), hint='see the module documentation'))
            return result
        except ParameterProblem as problem:
            result.update(problem.as_result())
            return result
        # The task's own arguments (not the normalised ones): the module applies the same spec.
        result.update(self._execute_module(module_name=self.MODULE_NAME,
                                           module_args=self._task.args, task_vars=task_vars))
        return result
