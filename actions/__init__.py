"""Custom actions run by the Rasa action server (`make run-actions`), one module per feature."""
