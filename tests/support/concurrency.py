"""Running one call from many threads at the same moment, each on its own database connection: the setup of
the PostgreSQL row-lock tests (use with the `postgres` fixture, which skips them on SQLite)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connections

from atmsite.errors import ApplicationError

T = TypeVar("T")


def run_at_once(call: Callable[[int], T], count: int) -> list[T | Exception]:
    """call(0) … call(count - 1), each in its own thread, released together by a barrier so they really race.
    Returns each call's result, or the exception it raised, in index order. Each thread closes its database
    connections when done (a thread's connection would otherwise outlive the test and block the flush)."""
    results: list[T | Exception] = [RuntimeError("never ran")] * count
    barrier = threading.Barrier(count)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = call(index)
        except Exception as error:  # returned to the test, which asserts on it
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def outcome_code(result: object) -> str:
    """ "ok" for a result, the code of a refusal (ApplicationError); any other exception fails the test."""
    if isinstance(result, ApplicationError):
        return result.code
    if isinstance(result, BaseException):
        raise result
    return "ok"
