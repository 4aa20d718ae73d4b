"""Omnicase case-core.

The single writer of case state: inbound messages become cases or thread replies; contacts,
organizations, history, views, macros, triggers.
"""
