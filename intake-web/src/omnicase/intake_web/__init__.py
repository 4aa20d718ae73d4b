"""Omnicase intake-web.

Web channels: Web-to-Case forms, messaging/SMS/social and generic integrator webhooks.
"""
