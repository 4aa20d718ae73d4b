"""Omnicase intake-email.

The email channel, both directions: SMTP listener, inbound-parse webhook, IMAP polling, MIME
parsing, outbound replies and auto-responses.
"""
