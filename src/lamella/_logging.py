"""One logger for user-facing messages: short lines prefixed with an arrow, as LaminDB users expect."""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger("lamella")


class _ArrowFormatter(logging.Formatter):
    PREFIX = {logging.INFO: "→ ", logging.WARNING: "! ", logging.ERROR: "✗ ", logging.DEBUG: "· "}

    def format(self, record: logging.LogRecord) -> str:
        return self.PREFIX.get(record.levelno, "") + record.getMessage()


if not logger.handlers:
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(_ArrowFormatter())
    logger.addHandler(_handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
