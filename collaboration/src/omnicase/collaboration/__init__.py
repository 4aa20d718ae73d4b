"""Omnicase collaboration.

Swarms of experts around a case, the expert finder, chat integrations (Slack first).
"""
