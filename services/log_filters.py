"""Logging filters: no search words in any log line, and no warning for a mistyped search."""

import logging
import re

# A query string, from the "?" after a path to the end of the request target: " HTTP/1.1"
# in a request line (a malformed one may hold spaces), a closing quote, or the line's end.
_QUERY_STRING = re.compile(r"(/[^\s?'\"]*)\?.*?(?=\s+HTTP/|['\"\n]|$)")


class WithoutQueryString(logging.Filter):
    """Takes the query string out of a record's message: "GET /find/?q=... HTTP/1.1" 404
    becomes "GET /find/ HTTP/1.1" 404. What people search for is what they are going
    through, and a log line often sits beside their address; the path is enough to
    find a fault.

    Put it on the logger that makes the records (django.server, gunicorn.error): a
    logger's filters see its records before any handler, and do not see its children's.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # left for the handler to report as a logging error
        cleaned = _QUERY_STRING.sub(r"\1", message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class ExpectedBadSearch(logging.Filter):
    """Drops django.request's "Bad Request: /find/" when the results page itself answered
    400: a radius of "abc" or page -1 is a person's typo, shown to them as a form error,
    not a fault of the server (a load run logged 924 of them in a minute). Every other
    4xx and 5xx is still logged, and so is a 400 raised as an exception there."""

    def filter(self, record: logging.LogRecord) -> bool:
        match = getattr(getattr(record, "request", None), "resolver_match", None)
        return not (
            getattr(record, "status_code", None) == 400
            and record.exc_info is None
            and match is not None
            and match.view_name == "services:find"
        )
