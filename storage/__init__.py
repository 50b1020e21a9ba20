"""Storage on SQLite or PostgreSQL (storage/db.py): one module per aggregate, every store opened once as one
Storage (storage/services.py)."""
