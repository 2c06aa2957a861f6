"""Logging set-up; phone numbers never reach a log line in clear."""

from __future__ import annotations

import logging

from hotline.phone import mask_in_text


class MaskPhoneNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_in_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskPhoneNumbers())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
