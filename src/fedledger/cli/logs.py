"""Structured logs: readable key=value lines on a terminal, JSON lines with --log-json."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str = "info", json_lines: bool = False) -> None:
    import structlog  # loaded here, not at start: `fedledger --help` logs nothing

    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        # Looked up at each log call: whoever swaps sys.stderr (a test runner) gets the logs.
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )
