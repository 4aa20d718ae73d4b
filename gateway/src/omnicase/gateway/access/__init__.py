"""What each caller may do at the gateway: route policy, body rules, request limits."""
