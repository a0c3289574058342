"""Production plumbing for Rasa: where conversations and locks live, and what happens
when those stores fail.

- ``infra.settings``: every environment variable of this package, read in one place.
- ``infra.tracker_store.EnvTrackerStore``: Rasa's SQL tracker store on the database
  ``TRACKER_STORE_URL`` names (SQLite under var/ by default, PostgreSQL in production).
- ``infra.lock_store.EnvLockStore``: in-memory locks by default; with
  ``LOCK_STORE_URL=redis://...`` a Redis lock built on atomic operations.
- ``infra.failures``: turns a store failure into a clear message to the user and an
  error in the log, instead of Rasa's silent fallback to an in-memory tracker.
- ``infra.health``: a ``/webhooks/health/ready`` readiness check (model loaded, warm-up
  parse done, stores reachable), as a Rasa input channel.

endpoints.yml names these classes by module path; Rasa imports them itself.
"""
