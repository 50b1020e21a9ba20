"""Block Kit builders: pure functions from plain data to Slack views and messages."""
