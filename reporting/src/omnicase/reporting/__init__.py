"""Omnicase reporting.

The read model for metrics (fed from ``case.events`` and ``sla.events``, rebuildable), the
metrics API and the CSV export.
"""
