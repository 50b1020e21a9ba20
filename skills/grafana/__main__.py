"""python -m skills.grafana <command> (see skills/grafana/cli.py)."""

import sys

from skills.grafana.cli import main

if __name__ == "__main__":
    sys.exit(main())
