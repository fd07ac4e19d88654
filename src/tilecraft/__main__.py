"""`python -m tilecraft --version`."""

import argparse
import sys


def main(argv=None) -> int:
    from . import __version__

    p = argparse.ArgumentParser(prog="tilecraft", description="tilecraft deep-learning compiler")
    p.add_argument("--version", action="version", version=f"tilecraft {__version__}")
    p.parse_args(argv)
    p.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
