"""The website side of the assistant: the demo page and the chat widget's files.

`python -m web` serves them; `create_app()` in web/app.py builds the Sanic app.
"""
