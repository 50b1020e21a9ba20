"""Pull-request review: intake (webhooks, polling, Slack, CLI), production context, the review itself."""
