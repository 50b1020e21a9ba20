"""Entry point of `python -m review <pr-url> [--print]`."""

import sys

from review.cli import main

sys.exit(main())
