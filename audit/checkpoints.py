"""The portal's side of the witness's checkpoints: read both copies, check them, hand them to chain_verify.

The portal never signs. Checkpoints are signed by the witness (audit.witness, docs/audit-witness.md) with a
key the portal does not hold; the portal has only its public key (AUDIT_WITNESS_PUBLIC_KEY). There are two
copies of the witness's lines:

* the sink (AUDIT_CHECKPOINT_SINK): where the witness publishes them; a file is read back here, syslog is not
  (`audit_verify --checkpoints EXPORT` takes an export of those lines);
* the witness's own log, read from the witness (AUDIT_WITNESS_URL: `http://host:port` of
  `audit_witness serve`, or the path of its log on this host in development).

Each copy must verify on its own (every line signed by the witness, each linked to the one before, seq
rising); the sink may hold nothing the witness did not sign, and the witness's newest line must be in the sink
(deleting the newest line of the sink shows). Then every checkpoint is checked against the chain
(audit.selectors.chain_verify).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .sink import Sink, SinkError, sink_parse
from .witness import (
    Checkpoint,
    CheckpointError,
    checkpoints_parse,
    checkpoints_read,
    public_key_parse,
    publics_by_id,
    sequence_problem,
)

__all__ = ["Anchor", "Checkpoint", "CheckpointError", "anchor_load", "sink_configured", "witness_public_keys"]

WITNESS_FETCH_TIMEOUT_S = 5


def witness_public_keys() -> dict[str, Ed25519PublicKey]:
    """settings.AUDIT_WITNESS_PUBLIC_KEY, newest first: the only keys whose checkpoints the portal accepts."""
    configured = settings.AUDIT_WITNESS_PUBLIC_KEY
    values = [configured] if isinstance(configured, str) else list(configured)
    try:
        publics = [public_key_parse(value) for value in values if value.strip()]
    except CheckpointError as error:
        raise ImproperlyConfigured(f"AUDIT_WITNESS_PUBLIC_KEY: {error}") from error
    if not publics:
        raise ImproperlyConfigured("AUDIT_WITNESS_PUBLIC_KEY is empty")
    return publics_by_id(publics)


def sink_configured(value: str | None = None) -> Sink:
    try:
        return sink_parse(value if value is not None else settings.AUDIT_CHECKPOINT_SINK)
    except SinkError as error:
        raise ImproperlyConfigured(str(error)) from error


def sink_copy(path: Path | None = None) -> list[Checkpoint] | None:
    """The sink's lines (or those of `path`, an export); None for a syslog sink without an export."""
    if path is None:
        sink = sink_configured()
        if sink.kind != "file":
            return None
        assert sink.path is not None
        path = sink.path
    return checkpoints_read(path)


def witness_copy(source: str | None = None) -> list[Checkpoint]:
    """The witness's own log: over HTTP from `audit_witness serve`, or a file (the witness on this host)."""
    source = source if source is not None else settings.AUDIT_WITNESS_URL
    if not source:
        raise CheckpointError(
            "AUDIT_WITNESS_URL is not set: the witness's copy cannot be compared (docs/audit-witness.md)"
        )
    if not source.startswith(("http://", "https://")):
        return checkpoints_read(Path(source))
    url = source.rstrip("/") + "/checkpoints"
    try:
        with urllib.request.urlopen(url, timeout=WITNESS_FETCH_TIMEOUT_S) as response:  # noqa: S310 - http(s) only
            text = response.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, OSError) as error:
        raise CheckpointError(f"the witness at {source} did not answer: {error}") from error
    return checkpoints_parse(text.splitlines())


@dataclass(frozen=True)
class Anchor:
    """What the witness has signed, as far as the portal can tell, and the first problem with it."""

    checkpoints: list[Checkpoint] = field(default_factory=list)
    problem: str = ""
    witness_compared: bool = True

    @property
    def newest(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None


def _copies_problem(sink: list[Checkpoint] | None, witness: list[Checkpoint] | None) -> str:
    publics = witness_public_keys()
    for name, copy in (("sink", sink), ("witness's copy", witness)):
        problem = sequence_problem(copy, publics) if copy is not None else ""
        if problem:
            return f"{name}: {problem}"
    if sink is None or witness is None:
        return ""
    signed = {checkpoint.digest for checkpoint in witness}
    for checkpoint in sink:
        if checkpoint.digest not in signed:
            return f"the sink holds {checkpoint}, which is not in the witness's copy"
    if witness and not sink:
        return (
            f"the sink holds none of the witness's {len(witness)} checkpoints: the lines were deleted, or "
            "the witness publishes elsewhere (give both the same AUDIT_CHECKPOINT_SINK)"
        )
    if witness and witness[-1].digest not in {checkpoint.digest for checkpoint in sink}:
        return f"the witness's newest {witness[-1]} is missing from the sink: a checkpoint line was deleted"
    return ""


def anchor_load(
    *, sink_path: Path | None = None, witness_source: str | None = None, use_witness: bool = True
) -> Anchor:
    try:
        sink = sink_copy(sink_path)
        witness = witness_copy(witness_source) if use_witness else None
    except CheckpointError as error:
        return Anchor(problem=str(error), witness_compared=use_witness)
    problem = _copies_problem(sink, witness)
    checkpoints = witness if witness is not None else (sink or [])
    return Anchor(checkpoints=list(checkpoints), problem=problem, witness_compared=use_witness)
