"""Omnicase knowledge.

Knowledge base (sections, articles, translations, versions) and multilingual search.
"""
