"""Filters for Django's request log."""

import logging


class ForbiddenWithoutTraceback(logging.Filter):
    """A 403 is a refusal working as intended, not an error: Django logs it with the PermissionDenied's traceback,
    which buries real errors and shows the code path to whoever reads the log. Keep its one warning line only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
