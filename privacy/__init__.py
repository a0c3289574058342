"""Keeping patients' personal details out of places they must not go (logs first)."""
