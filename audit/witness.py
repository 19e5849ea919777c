"""The audit witness: signs checkpoints of the audit chain head with a key the portal never holds.

The portal holds the chain key (AUDIT_CHAIN_KEY): with it and the database, anyone can edit an event and
recompute every later hash. What such a rewrite cannot do is agree with checkpoints signed earlier by someone
else. The witness is that someone: a separate process (`scripts/audit_witness.py`, docs/audit-witness.md)
with its own Ed25519 key (AUDIT_WITNESS_KEY, only in the witness's environment) that

* reads the chain head from the database with read-only access, and signs it only when the chain *extends*
  its own last checkpoint: the event it last signed still carries the same hash, and every event after it
  links on by prev_hash. A rewritten or shortened history is refused, never signed;
* appends each checkpoint to its own append-only log and publishes a copy to AUDIT_CHECKPOINT_SINK;
* links each checkpoint to the previous one (`prev` = digest of the previous checkpoint), so a line deleted
  from a copy breaks the links, and the newest line missing from a copy shows against the witness's own log.

The portal verifies with the witness's PUBLIC key only (AUDIT_WITNESS_PUBLIC_KEY). No Django import here: the
witness runs on another host with this package, `cryptography` and a database driver.

A checkpoint line is `{"type": "atm-audit-checkpoint", "v": 2, "seq", "hash", "at", "prev", "key_id",
"signature"}`, the signature Ed25519 over b"atm-audit-checkpoint/v2\\n" + canonical JSON of seq/hash/at/prev.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CHECKPOINT_TYPE = "atm-audit-checkpoint"
CHECKPOINT_VERSION = 2
SIGNED_PREFIX = b"atm-audit-checkpoint/v2\n"
GENESIS = "0" * 64
DEV_KEY_FILE = "dev-audit-witness-key"


class CheckpointError(Exception):
    """A checkpoint line is unreadable, not signed by the witness, or out of line with the others."""


def canonical(values: dict[str, Any]) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str  # ISO 8601, UTC
    prev: str  # digest of the previous checkpoint of this witness, GENESIS for the first
    key_id: str
    signature: str  # base64

    def signed_message(self) -> bytes:
        return SIGNED_PREFIX + canonical(
            {"seq": self.seq, "hash": self.hash, "at": self.at, "prev": self.prev}
        )

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.signed_message()).hexdigest()

    @property
    def signed_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.at)

    def line(self) -> str:
        body = {"type": CHECKPOINT_TYPE, "v": CHECKPOINT_VERSION, **self.__dict__}
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} of {self.at}"


# --- Keys -----------------------------------------------------------------------------------------------


def private_key_parse(text: str) -> Ed25519PrivateKey:
    """Base64 of a 32-byte Ed25519 seed."""
    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text.strip(), validate=True))
    except (ValueError, binascii.Error) as error:
        raise CheckpointError("a witness key must be base64 of 32 random bytes (an Ed25519 seed)") from error


def public_key_parse(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except (ValueError, binascii.Error) as error:
        raise CheckpointError("a witness public key must be base64 of 32 bytes (Ed25519)") from error


def _public_raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_public_raw(public)).hexdigest()[:16]


def public_key_text(public: Ed25519PublicKey) -> str:
    return base64.b64encode(_public_raw(public)).decode()


def new_seed_text() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def dev_key_text(var_dir: Path) -> str:
    """DEVELOPMENT ONLY: a witness key generated once into var/ so `make run` works with no configuration.
    Production never reads it: the witness refuses to start without AUDIT_WITNESS_KEY when DEBUG is off."""
    path = var_dir / DEV_KEY_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(new_seed_text() + "\n")
    return path.read_text().strip()


def publics_by_id(publics: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    return {public_key_id(public): public for public in publics}


# --- Lines ----------------------------------------------------------------------------------------------


def checkpoint_sign(
    *, key: Ed25519PrivateKey, seq: int, hash: str, at: dt.datetime, previous: Checkpoint | None
) -> Checkpoint:
    unsigned = Checkpoint(
        seq=seq,
        hash=hash,
        at=at.astimezone(dt.UTC).isoformat(),
        prev=previous.digest if previous else GENESIS,
        key_id=public_key_id(key.public_key()),
        signature="",
    )
    signature = base64.b64encode(key.sign(unsigned.signed_message())).decode()
    return Checkpoint(**{**unsigned.__dict__, "signature": signature})


def checkpoint_parse(text: str) -> Checkpoint:
    # Lines exported from syslog carry a prefix (time, host, tag): the checkpoint is the JSON object after it.
    start = text.find("{")
    try:
        # raw_decode: syslog may add a NUL or other trailing bytes after the object.
        data = json.JSONDecoder().raw_decode(text[start:])[0] if start >= 0 else None
        if not isinstance(data, dict) or data.get("type") != CHECKPOINT_TYPE:
            raise ValueError("not a checkpoint")
        if data.get("v") != CHECKPOINT_VERSION:
            raise ValueError(f"version {data.get('v')!r} is not a witness checkpoint (v{CHECKPOINT_VERSION})")
        fields = {name: str(data[name]) for name in ("hash", "at", "prev", "key_id", "signature")}
        checkpoint = Checkpoint(seq=int(data["seq"]), **fields)
        checkpoint.signed_at  # noqa: B018 - a malformed time is a malformed line
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"unreadable checkpoint line: {error}") from error
    if checkpoint.seq < 1:
        raise CheckpointError(f"unreadable checkpoint line: seq {checkpoint.seq}")
    return checkpoint


def checkpoints_parse(lines: Iterable[str]) -> list[Checkpoint]:
    return [checkpoint_parse(line) for line in lines if CHECKPOINT_TYPE in line]


def checkpoints_read(path: Path) -> list[Checkpoint]:
    """Every checkpoint in a file (none if it does not exist yet). An unreadable line is an error, never
    skipped: a copy is evidence as a whole."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return checkpoints_parse(handle)
    except FileNotFoundError:
        return []
    except OSError as error:
        raise CheckpointError(f"cannot read checkpoints from {path}: {error}") from error


def signature_problem(checkpoint: Checkpoint, publics: dict[str, Ed25519PublicKey]) -> str:
    public = publics.get(checkpoint.key_id)
    if public is None:
        return f"{checkpoint} is signed with key {checkpoint.key_id}, which is not the witness's"
    try:
        public.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.signed_message())
    except (InvalidSignature, ValueError, binascii.Error):
        return f"{checkpoint} has an invalid signature (the line was altered or forged)"
    return ""


def sequence_problem(checkpoints: Sequence[Checkpoint], publics: dict[str, Ed25519PublicKey]) -> str:
    """The first problem of one copy of the witness log: a line not signed by the witness, a line that does
    not link to the one before it (one deleted or inserted), a seq that goes back or a time that does."""
    previous: Checkpoint | None = None
    for checkpoint in checkpoints:
        problem = signature_problem(checkpoint, publics)
        if problem:
            return problem
        expected = previous.digest if previous else GENESIS
        if checkpoint.prev != expected:
            before = f"{previous}" if previous else "the start of the log"
            return f"{checkpoint} does not follow {before}: a checkpoint line was deleted or inserted"
        if previous and checkpoint.seq <= previous.seq:
            return f"{checkpoint} covers a history no longer than {previous} before it"
        if previous and checkpoint.signed_at < previous.signed_at:
            return f"{checkpoint} is dated before {previous}"
        previous = checkpoint
    return ""


# --- Reading the chain (read-only) ----------------------------------------------------------------------


class DbChain:
    """The chain as the witness reads it: any DB-API connection, SELECT only (give the witness a read-only
    database role; see docs/audit-witness.md)."""

    def __init__(self, cursor: Callable[[], Any], placeholder: str = "%s") -> None:
        self._cursor, self._p = cursor, placeholder

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        cursor = self._cursor()
        try:
            cursor.execute(sql.replace("%s", self._p), params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def head(self) -> tuple[int, str]:
        rows = self._rows("SELECT seq, hash FROM audit_auditchainhead WHERE id = %s", [1])
        return (int(rows[0][0]), str(rows[0][1])) if rows else (0, GENESIS)

    def event_hash(self, seq: int) -> str | None:
        rows = self._rows("SELECT hash FROM audit_auditevent WHERE seq = %s", [seq])
        return str(rows[0][0]) if rows else None

    def links(self, after: int, upto: int, batch: int = 5000) -> Iterator[tuple[int, str, str]]:
        """(seq, prev_hash, hash) of the events after `after` up to `upto`, in order."""
        while after < upto:
            rows = self._rows(
                "SELECT seq, prev_hash, hash FROM audit_auditevent WHERE seq > %s AND seq <= %s "
                "ORDER BY seq LIMIT %s",
                [after, upto, batch],
            )
            if not rows:
                return
            for seq, prev_hash, digest in rows:
                yield int(seq), str(prev_hash), str(digest)
            after = int(rows[-1][0])


def extension_problem(chain: DbChain, *, last: Checkpoint | None, head: tuple[int, str]) -> str:
    """Why the chain at `head` is not an extension of what the witness signed last ("" when it is)."""
    head_seq, head_hash = head
    start_seq, start_hash = (last.seq, last.hash) if last else (0, GENESIS)
    if head_seq < start_seq:
        return f"the chain head is #{head_seq}, shorter than the witness's {last}: events were cut off"
    if last is not None and chain.event_hash(last.seq) != last.hash:
        return f"event #{last.seq} no longer has the hash of the witness's {last}: the history was rewritten"
    expected_seq, prev_hash = start_seq + 1, start_hash
    for seq, link_prev, digest in chain.links(start_seq, head_seq):
        if seq != expected_seq:
            return f"event #{expected_seq} is missing"
        if link_prev != prev_hash:
            return f"event #{seq} does not link to event #{seq - 1}"
        expected_seq, prev_hash = seq + 1, digest
    if expected_seq - 1 != head_seq or prev_hash != head_hash:
        return f"the chain head (#{head_seq}) does not match its events"
    return ""


@dataclass(frozen=True)
class SignResult:
    written: bool
    checkpoint: Checkpoint | None
    reason: str = ""


def witness_sign(
    *,
    chain: DbChain,
    keys: Sequence[Ed25519PrivateKey],
    log: Path,
    now: dt.datetime,
    publish: Callable[[str], None] | None = None,
) -> SignResult:
    """Sign the chain head if it extends the witness's own last checkpoint; append it to `log`, then publish.

    Idempotent: nothing is written while the head is the one already signed. A refusal (rewritten, cut or
    mislinked chain, or a log of its own that does not verify) raises CheckpointError and writes nothing.
    """
    own = checkpoints_read(log)
    problem = sequence_problem(own, publics_by_id(key.public_key() for key in keys))
    if problem:
        raise CheckpointError(f"the witness's own log {log} does not verify: {problem}")
    last = own[-1] if own else None
    head = chain.head()
    if head[0] == 0:
        return SignResult(written=False, checkpoint=last, reason="the chain is empty")
    if last is not None and (last.seq, last.hash) == head:
        return SignResult(written=False, checkpoint=last, reason="the head is already signed")
    problem = extension_problem(chain, last=last, head=head)
    if problem:
        raise CheckpointError(f"refusing to sign: {problem}")
    checkpoint = checkpoint_sign(key=keys[0], seq=head[0], hash=head[1], at=now, previous=last)
    from .sink import file_append

    file_append(log, checkpoint.line())
    if publish is not None:
        publish(checkpoint.line())
    return SignResult(written=True, checkpoint=checkpoint)
