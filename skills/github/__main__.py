"""Entry point of `python -m skills.github`: a composition root, so it hands the CLI the review pipeline."""

import sys

from review.cli import run_review
from skills.github.cli import main

sys.exit(main(review=run_review))
