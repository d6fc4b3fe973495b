"""The folder Streamlit serves: the entry script ``app.py``, ``static/`` and ``.streamlit/config.toml``.

Streamlit serves ``static/`` beside the entry script at ``app/static/`` and reads the
``.streamlit/config.toml`` beside it wherever the server starts. The script sits in a
folder of its own because Streamlit takes a ``pages/`` folder beside it for an
old-style multipage app and would run ``assetmap/ui/pages`` instead of the app's own
navigation.
"""
