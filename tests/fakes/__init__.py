"""Local doubles of the external services sitrep talks to: real servers on 127.0.0.1."""
