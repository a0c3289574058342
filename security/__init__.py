"""Dependency vulnerability audit: the pinned set against advisory databases.

``make audit`` runs ``python -m security.audit``; docs/audit.md says how it works.
"""
