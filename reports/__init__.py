"""Scheduled status reports: scheduled_jobs -> APScheduler cron triggers, the run ledger, readiness."""
