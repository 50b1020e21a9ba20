"""The rule-based planner (no ANTHROPIC_API_KEY): planner.py reads a question into a Plan, the plays run it."""
