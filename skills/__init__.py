"""Integrations the agent can use. Each skill exposes its readiness (its Home tab row) and its tools."""
