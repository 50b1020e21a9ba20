"""SQLite storage: one module per aggregate (teams and config, credentials, audit)."""
