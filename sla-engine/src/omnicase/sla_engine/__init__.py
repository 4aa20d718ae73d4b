"""Omnicase sla-engine.

Business hours, SLA policies, milestones, warnings, breaches, escalations, time-based automations.
"""
