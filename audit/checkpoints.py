"""Signed checkpoints of the audit chain head, kept outside the database.

A checkpoint is one JSON line `{"type": "atm-audit-checkpoint", "v": 1, "seq", "hash", "at", "key_id",
"signature"}`: the head's seq and hash at a time, signed with Ed25519 over

    b"atm-audit-checkpoint/v1\\n" + canonical JSON of {"seq", "hash", "at"}

Ed25519 rather than an HMAC: the signing key stays with the portal (AUDIT_CHECKPOINT_SIGNING_KEY), while
anyone checking the sink — an auditor, the bank's SIEM — needs only the public key
(`manage.py audit_checkpoint --public-key`) and cannot mint checkpoints with it.

The sink (settings.AUDIT_CHECKPOINT_SINK) is written outside the database: a file opened for appending only
(make it append-only at the OS level too: `chattr +a`, or a log host), or syslog (a local socket or a remote
log server). A file sink is read back by `audit_verify`; syslog is not, so `audit_verify --checkpoints FILE`
takes an export of those lines.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import logging
import logging.handlers
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .chain import canonical

CHECKPOINT_TYPE = "atm-audit-checkpoint"
CHECKPOINT_VERSION = 1
SIGNED_PREFIX = b"atm-audit-checkpoint/v1\n"


class CheckpointError(Exception):
    """The sink cannot be read, or its latest checkpoint is malformed or not validly signed."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str  # ISO 8601, UTC
    key_id: str
    signature: str  # base64

    def signed_message(self) -> bytes:
        return SIGNED_PREFIX + canonical({"seq": self.seq, "hash": self.hash, "at": self.at})

    def line(self) -> str:
        return json.dumps(
            {
                "type": CHECKPOINT_TYPE,
                "v": CHECKPOINT_VERSION,
                "seq": self.seq,
                "hash": self.hash,
                "at": self.at,
                "key_id": self.key_id,
                "signature": self.signature,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} of {self.at}"


# --- Keys -----------------------------------------------------------------------------------------------


def _public_raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_public_raw(public)).hexdigest()[:16]


def public_key_text(public: Ed25519PublicKey) -> str:
    return base64.b64encode(_public_raw(public)).decode()


def signing_keys() -> list[Ed25519PrivateKey]:
    """settings.AUDIT_CHECKPOINT_SIGNING_KEY, newest first: each a base64 32-byte Ed25519 seed."""
    configured = settings.AUDIT_CHECKPOINT_SIGNING_KEY
    values = [configured] if isinstance(configured, str) else list(configured)
    keys = []
    for value in values:
        try:
            keys.append(Ed25519PrivateKey.from_private_bytes(base64.b64decode(value, validate=True)))
        except (ValueError, binascii.Error) as error:
            raise ImproperlyConfigured(
                "AUDIT_CHECKPOINT_SIGNING_KEY must be base64 of 32 random bytes (an Ed25519 seed)"
            ) from error
    if not keys:
        raise ImproperlyConfigured("AUDIT_CHECKPOINT_SIGNING_KEY is empty")
    return keys


def verifying_keys() -> dict[str, Ed25519PublicKey]:
    return {public_key_id(key.public_key()): key.public_key() for key in signing_keys()}


def checkpoint_sign(*, seq: int, hash: str, at: dt.datetime) -> Checkpoint:
    key = signing_keys()[0]
    unsigned = Checkpoint(
        seq=seq,
        hash=hash,
        at=at.astimezone(dt.UTC).isoformat(),
        key_id=public_key_id(key.public_key()),
        signature="",
    )
    signature = base64.b64encode(key.sign(unsigned.signed_message())).decode()
    return Checkpoint(seq=seq, hash=hash, at=unsigned.at, key_id=unsigned.key_id, signature=signature)


def checkpoint_signature_problem(checkpoint: Checkpoint) -> str:
    public = verifying_keys().get(checkpoint.key_id)
    if public is None:
        return f"{checkpoint} is signed with key {checkpoint.key_id}, which is not configured"
    try:
        public.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.signed_message())
    except (InvalidSignature, ValueError, binascii.Error):
        return f"{checkpoint} has an invalid signature (the line was altered or forged)"
    return ""


# --- The sink -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sink:
    kind: str  # "file" or "syslog"
    path: Path | None = None
    address: Any = None
    socktype: socket.SocketKind = socket.SOCK_DGRAM

    def __str__(self) -> str:
        return str(self.path) if self.kind == "file" else f"syslog {self.address}"


def sink_configured(value: str | None = None) -> Sink:
    value = value if value is not None else settings.AUDIT_CHECKPOINT_SINK
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
        raise ImproperlyConfigured(f"AUDIT_CHECKPOINT_SINK: unknown scheme {parts.scheme!r}")
    return Sink(kind="file", path=Path(value))


def _file_append(path: Path, line: str) -> None:
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
        # A checkpoint that did not leave must fail the task, not print a traceback and pass.
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


def checkpoint_write(checkpoint: Checkpoint, *, sink: Sink | None = None) -> None:
    sink = sink or sink_configured()
    if sink.kind == "file":
        assert sink.path is not None
        _file_append(sink.path, checkpoint.line())
    else:
        _syslog_send(sink, checkpoint.line())


def checkpoint_parse(text: str) -> Checkpoint:
    # Lines exported from syslog carry a prefix (time, host, tag): the checkpoint is the JSON object after it.
    start = text.find("{")
    try:
        # raw_decode: syslog may add a NUL or other trailing bytes after the object.
        data = json.JSONDecoder().raw_decode(text[start:])[0] if start >= 0 else None
        if not isinstance(data, dict) or data.get("type") != CHECKPOINT_TYPE:
            raise ValueError("not a checkpoint")
        if data.get("v") != CHECKPOINT_VERSION:
            raise ValueError(f"unknown version {data.get('v')!r}")
        checkpoint = Checkpoint(
            seq=int(data["seq"]),
            hash=str(data["hash"]),
            at=str(data["at"]),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"unreadable checkpoint line: {error}") from error
    if checkpoint.seq < 1:
        raise CheckpointError(f"unreadable checkpoint line: seq {checkpoint.seq}")
    return checkpoint


def checkpoint_latest(*, path: Path | None = None) -> Checkpoint | None:
    """The last checkpoint in `path` (default: the configured file sink), its signature verified.

    None when there is none yet. Raises CheckpointError when the sink is syslog and no `path` is given, when
    the file cannot be read, or when its latest checkpoint line is malformed or not validly signed: a line an
    attacker appended is never skipped in favour of an older one.
    """
    if path is None:
        sink = sink_configured()
        if sink.kind != "file":
            raise CheckpointError(
                f"checkpoints are sent to {sink}, which cannot be read back: pass --checkpoints FILE "
                "with those lines exported from the log server"
            )
        assert sink.path is not None
        path = sink.path
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = [line for line in handle if CHECKPOINT_TYPE in line]
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CheckpointError(f"cannot read checkpoints from {path}: {error}") from error
    if not lines:
        return None
    checkpoint = checkpoint_parse(lines[-1])
    problem = checkpoint_signature_problem(checkpoint)
    if problem:
        raise CheckpointError(problem)
    return checkpoint
