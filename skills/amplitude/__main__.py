"""Entry point of `python -m skills.amplitude`."""

import sys

from skills.amplitude.cli import main

sys.exit(main())
