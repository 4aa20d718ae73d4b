"""Agents: skills, languages, group membership, presence and capacity."""
