"""Agents' voice status: whether each takes calls now (available, busy on a call or in its wrap-up, offline)."""
