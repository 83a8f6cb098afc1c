"""One small family of exceptions whose messages name the file, the field and what is allowed.

The command line turns any of these into one line on stderr and a non-zero exit, never a traceback.
"""


class EchelonError(Exception):
    """Base class: a problem the user can fix (bad config, bad site, bad scenario)."""


class ConfigError(EchelonError, ValueError):
    """A configuration key or value is not allowed."""


class SiteError(EchelonError, ValueError):
    """A site (road network, facilities, grids) cannot be loaded or fails validation."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


class ScenarioError(EchelonError, ValueError):
    """A scenario file or incident mix is not allowed."""


class Stopped(KeyboardInterrupt):
    """A stop signal (SIGTERM, SIGHUP) as an exception: the run unwinds and cleans up as on Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
