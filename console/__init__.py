"""The staff console: conversations, callback enquiries and the NLU inbox.

A Sanic app (``console.app.create_app``) that reads Rasa's SQL tracker store and the
enquiries database directly, and keeps its own tables (staff, sessions, audit log,
enquiry status, NLU reviews, conversation summaries) in the console database.
"""
