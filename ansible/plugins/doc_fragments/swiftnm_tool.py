# -*- coding: utf-8 -*-
# Documentation the bridgeify and netstate modules share (extends_documentation_fragment:
# swiftnm.network.swiftnm_tool): the attributes both have alike and the bus_address option.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  bus_address:
    description: D-Bus address of NetworkManager's bus (default the system bus).
    type: str
attributes:
  diff_mode:
    description: The plan's settings, before and after.
    support: full
  platform:
    description: Debian hosts with NetworkManager and swift-networkmanager-tools.
    support: full
    platforms: debian
'''
