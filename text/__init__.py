"""Text for Slack, below every layer that writes it: mrkdwn helpers and Block Kit limits, sparklines."""
