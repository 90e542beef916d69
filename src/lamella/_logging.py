"""One logger for user-facing messages: short lines prefixed with an arrow, as LaminDB users expect.

The library configures this logger (`lamella`) and no other: not the root logger, not the loggers of
the libraries it uses. Its level is `ln.settings.verbosity`. Applications that route everything
through their own logging setup can remove the handler and set `propagate = True`; a handler added
to `lamella` before the first import is kept, and then none is added here.
"""

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
