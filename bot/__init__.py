"""The top layer: the Slack surfaces (slack/, blocks/), the shell adapter, the web server, and the Runtime with
what runs beside the Slack connection (runtime.py, background.py)."""
