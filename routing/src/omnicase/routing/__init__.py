"""Omnicase routing.

Agents, groups/queues, skills, presence and capacity; assignment rules; omni-channel push routing.
"""
