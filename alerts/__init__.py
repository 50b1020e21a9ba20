"""Alert notifications investigated where they land: parsed (Grafana, Alertmanager, their Slack messages), claimed
once per fingerprint and firing period, investigated (rules, or Claude with a key) and answered in the thread."""
