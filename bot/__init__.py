"""Slack surfaces, the agent, the shell adapter and the web server."""
