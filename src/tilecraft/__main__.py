"""`python -m tilecraft` runs the `tilecraft` command line (harness/cli.py)."""

import sys

from .harness.cli import main

if __name__ == "__main__":
    sys.exit(main())
