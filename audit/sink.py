"""Where checkpoint lines are published outside the database: an append-only file or syslog.

No Django import: the witness (scripts/audit_witness.py) publishes with it on a host without the portal.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class SinkError(ValueError):
    """The sink setting names no usable destination."""


@dataclass(frozen=True)
class Sink:
    kind: str  # "file" or "syslog"
    path: Path | None = None
    address: Any = None
    socktype: socket.SocketKind = socket.SOCK_DGRAM

    def __str__(self) -> str:
        return str(self.path) if self.kind == "file" else f"syslog {self.address}"


def sink_parse(value: str) -> Sink:
    """A file path, file://PATH, syslog:///dev/log (local socket), syslog://host:514 (UDP) or syslog+tcp://."""
    parts = urlsplit(value)
    if parts.scheme in ("syslog", "syslog+tcp"):
        if parts.hostname and parts.scheme == "syslog" and not parts.path.strip("/"):
            return Sink(kind="syslog", address=(parts.hostname, parts.port or 514))
        if parts.hostname and parts.scheme == "syslog+tcp":
            return Sink(
                kind="syslog", address=(parts.hostname, parts.port or 514), socktype=socket.SOCK_STREAM
            )
        # syslog:///dev/log, or syslog:// followed by a socket path
        path = (parts.netloc + parts.path) if parts.netloc else parts.path
        return Sink(kind="syslog", address=path or "/dev/log")
    if parts.scheme == "file":
        return Sink(kind="file", path=Path(parts.path))
    if parts.scheme:
        raise SinkError(f"AUDIT_CHECKPOINT_SINK: unknown scheme {parts.scheme!r}")
    return Sink(kind="file", path=Path(value))


def file_append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: every write lands at the end, whatever else holds the file open; never truncated or rewritten.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, (line + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class _SysLogHandler(logging.handlers.SysLogHandler):
    def handleError(self, record: logging.LogRecord) -> None:
        # A checkpoint that did not leave must fail loudly, not print a traceback and pass.
        raise  # emit() calls this inside its except block: re-raise what failed


def _syslog_send(sink: Sink, line: str) -> None:
    handler = _SysLogHandler(
        address=sink.address, facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV, socktype=sink.socktype
    )
    handler.setFormatter(logging.Formatter("atm-audit: %(message)s"))
    try:
        record = logging.LogRecord("atm.audit.checkpoint", logging.INFO, __file__, 0, line, None, None)
        handler.emit(record)
    finally:
        handler.close()


def sink_write(sink: Sink, line: str) -> None:
    if sink.kind == "file":
        assert sink.path is not None
        file_append(sink.path, line)
    else:
        _syslog_send(sink, line)
