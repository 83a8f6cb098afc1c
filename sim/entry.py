"""The ``echelon`` script: a Ctrl-C while the command line itself is still being imported ends in the same
one line as a Ctrl-C later on, not a traceback; the command's worker processes end with it."""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from sim.cli import main as cli_main
    except KeyboardInterrupt:
        print("echelon: stopped by SIGINT; nothing was written", file=sys.stderr)
        return 130
    try:
        return cli_main()
    finally:
        # The command is over and this process ends now: its idle worker processes are ended at once
        # rather than joined one by one at exit (a third of a second). Not in ``cli.main``: a notebook or a
        # test calling it twice keeps its workers for the next command.
        import gc

        from sim import parallel

        parallel.stop_workers()
        # Nor need Python's last garbage collection walk every object the command made once more (about
        # half a second after a run: the site's graphs, the logs). Only unreachable cycles are left to the
        # operating system; the commands write their files inside ``with`` blocks, none is left open.
        gc.freeze()
