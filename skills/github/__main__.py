"""Entry point of `python -m skills.github`."""

import sys

from skills.github.cli import main

sys.exit(main())
