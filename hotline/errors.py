"""One error base class, one handler, one stable body: `{"error": ..., "detail": ...}`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from redis.exceptions import RedisError
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException


class ErrorBody(BaseModel):
    """Every error the REST API returns has this shape; some add fields (a 409 on a status
    change adds `allowed`: the states that may follow)."""

    model_config = ConfigDict(extra="allow")

    error: str
    detail: Any = None


class HotlineError(Exception):
    status_code = 400
    error = "bad_request"

    def __init__(self, detail: Any = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        # Extra top-level fields of the error body, e.g. `allowed` on a refused transition.
        self.extra = extra


class NotFound(HotlineError):
    status_code = 404
    error = "not_found"


class Conflict(HotlineError):
    status_code = 409
    error = "conflict"


class Invalid(HotlineError):
    """Input that parses but makes no sense here (an unknown code, a missing summary)."""

    status_code = 422
    error = "validation_error"


class Unauthorized(HotlineError):
    status_code = 401
    error = "unauthorized"


class Forbidden(HotlineError):
    status_code = 403
    error = "forbidden"


class TooManyRequests(HotlineError):
    status_code = 429
    error = "too_many_requests"


log = logging.getLogger(__name__)

_HTTP_ERROR_NAMES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "service_unavailable",
}

# Declared on routers so the OpenAPI document shows the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": name.replace("_", " ")}
    for code, name in _HTTP_ERROR_NAMES.items()
    if code in (401, 403, 404, 409, 413, 422)
}
# What FastAPI says of a body it cannot even decode (not UTF-8): bad input like any other, a 422.
_UNREADABLE_BODY = "There was an error parsing the body"


def error_response(status: int, error: str, detail: Any, **extra: Any) -> JSONResponse:
    """The stable error body, for code that answers outside the exception handlers."""
    return JSONResponse(
        status_code=status, content=ErrorBody(error=error, detail=detail, **extra).model_dump()
    )


def install_error_handlers(app: FastAPI) -> None:
    async def hotline_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HotlineError)
        return error_response(exc.status_code, exc.error, exc.detail, **exc.extra)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400 and exc.detail == _UNREADABLE_BODY:
            return error_response(422, "validation_error", "the body is not readable JSON")
        name = _HTTP_ERROR_NAMES.get(exc.status_code, "error")
        response = error_response(exc.status_code, name, exc.detail)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        detail = [
            {
                "loc": list(err.get("loc", ())),
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        return error_response(422, "validation_error", detail)

    async def backend_down(_: Request, exc: Exception) -> JSONResponse:
        # Redis or the database not answering: a clear, retryable answer in the usual shape.
        log.warning("backend unavailable: %s", type(exc).__name__)
        response = error_response(
            503, "service_unavailable", "a backing service is not answering; retry"
        )
        response.headers["Retry-After"] = "5"
        return response

    async def value_out_of_range(_: Request, exc: Exception) -> JSONResponse:
        # The database refused a value the models let through (an id past 32 bits in a body).
        log.info("database refused a value: %s", type(getattr(exc, "orig", exc)).__name__)
        return error_response(422, "validation_error", "a value is out of range")

    app.add_exception_handler(HotlineError, hotline_error)
    app.add_exception_handler(DataError, value_out_of_range)
    # SQLite's driver refuses an int past 64 bits before the query runs, unwrapped.
    app.add_exception_handler(OverflowError, value_out_of_range)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    for unavailable in (RedisError, OperationalError):
        app.add_exception_handler(unavailable, backend_down)
