# -*- coding: utf-8 -*-
# The bridgeify module's action plugin: checks the task's arguments on the controller and only then
# sends the module to the host (plugins/plugin_utils/swiftnm_action.py, shared with the
# netstate module). A bad interface name therefore fails before any connection.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.swiftnm.network.plugins.module_utils.bridgeify import (
    ARGUMENT_SPEC, MUTUALLY_EXCLUSIVE, REQUIRED_IF, check_parameters)
from ansible_collections.swiftnm.network.plugins.plugin_utils.swiftnm_action import ToolAction


class ActionModule(ToolAction):

    MODULE_NAME = 'swiftnm.network.bridgeify'
    ARGUMENT_SPEC = ARGUMENT_SPEC
    REQUIRED_IF = REQUIRED_IF
    MUTUALLY_EXCLUSIVE = MUTUALLY_EXCLUSIVE

    def check_parameters(self, params):
        check_parameters(params)
