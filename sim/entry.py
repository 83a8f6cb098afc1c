"""The ``echelon`` script: a Ctrl-C while the command line itself is still being imported ends in the same
one line as a Ctrl-C later on, not a traceback."""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from sim.cli import main as cli_main
    except KeyboardInterrupt:
        print("echelon: stopped by SIGINT; nothing was written", file=sys.stderr)
        return 130
    return cli_main()
