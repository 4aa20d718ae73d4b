"""Omnicase gateway.

The one public entry: identity, tokens, roles, proxying, merged OpenAPI, rate limits, CORS.
"""
