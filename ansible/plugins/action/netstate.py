# -*- coding: utf-8 -*-
# The netstate module's action plugin: checks the task's arguments on the controller and only then
# sends the module to the host (plugins/plugin_utils/swiftnm_action.py, shared with the
# bridgeify module). A bad interface name in the state therefore fails before any connection.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.swiftnm.network.plugins.module_utils.netstate import (
    ARGUMENT_SPEC, MUTUALLY_EXCLUSIVE, REQUIRED_IF, check_parameters)
from ansible_collections.swiftnm.network.plugins.plugin_utils.swiftnm_action import ToolAction


class ActionModule(ToolAction):

    MODULE_NAME = 'swiftnm.network.netstate'
    ARGUMENT_SPEC = ARGUMENT_SPEC
    REQUIRED_IF = REQUIRED_IF
    MUTUALLY_EXCLUSIVE = MUTUALLY_EXCLUSIVE

    def check_parameters(self, params):
        check_parameters(params)
