"""One exception hierarchy; the CLI turns each into a single line and an exit code."""

from __future__ import annotations

EXIT_ERROR = 2  # usage, config, data or environment: the user can act on it
EXIT_BUG = 3  # an unexpected failure


class MlopsError(Exception):
    """A failure the user can act on: printed as one line, exit code 2."""

    exit_code = EXIT_ERROR


class ConfigError(MlopsError):
    """params.yaml (or another config input) is invalid."""


class DataError(MlopsError):
    """The versioned data could not be pulled or does not match its hashes."""


class TrainingError(MlopsError):
    """Training could not run or did not produce what it must."""


class MetricsError(MlopsError):
    """A metrics file is missing or unreadable."""


class GitError(MlopsError):
    """A git command failed."""


class GitHubError(MlopsError):
    """The GitHub API refused or failed a request."""
