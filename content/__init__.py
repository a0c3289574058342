"""Patient-facing answer content: loading, fact checks and readability (no Rasa import)."""
