"""The witness process: `python scripts/audit_witness.py new-key | public-key | sign | serve`.

Its environment is its own (docs/audit-witness.md): AUDIT_WITNESS_KEY[_FILE] (never in the portal's),
AUDIT_WITNESS_DATABASE_URL (a read-only database role; DATABASE_URL is the fallback), AUDIT_WITNESS_LOG (its
own append-only copy), AUDIT_CHECKPOINT_SINK (where it publishes each line; optional), AUDIT_WITNESS_LISTEN
and AUDIT_WITNESS_INTERVAL_S for `serve`. With DEBUG on (the default, as for the portal) everything has a
development default under var/, the key included; with DEBUG=false a missing key or log stops it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .sink import sink_parse, sink_write
from .witness import (
    CheckpointError,
    DbChain,
    SignResult,
    dev_key_text,
    new_seed_text,
    private_key_parse,
    public_key_text,
    witness_sign,
)

BASE_DIR = Path(__file__).resolve().parent.parent


class WitnessConfigError(Exception):
    pass


class Config:
    def __init__(self, environ: dict[str, str]) -> None:
        self.env = environ
        self.debug = environ.get("DEBUG", "true").strip().lower() in ("1", "true", "yes", "on")
        self.var_dir = Path(environ.get("ATM_VAR_DIR") or BASE_DIR / "var")

    def _value(self, name: str, dev_default: Callable[[], str] | None = None) -> str:
        path = self.env.get(f"{name}_FILE", "")
        value = Path(path).read_text().strip() if path else self.env.get(name, "").strip()
        if not value and dev_default is not None:
            if not self.debug:
                raise WitnessConfigError(f"{name} must be set when DEBUG is off (docs/audit-witness.md)")
            value = dev_default()
        return value

    def private_keys(self) -> list[Ed25519PrivateKey]:
        text = self._value("AUDIT_WITNESS_KEY", lambda: dev_key_text(self.var_dir))
        return [private_key_parse(part) for part in text.split(",") if part.strip()]

    def log(self) -> Path:
        return Path(self._value("AUDIT_WITNESS_LOG", lambda: str(self.var_dir / "audit-witness.jsonl")))

    def database_url(self) -> str:
        url = self.env.get("AUDIT_WITNESS_DATABASE_URL") or self.env.get("DATABASE_URL", "")
        return url or self._value(
            "AUDIT_WITNESS_DATABASE_URL", lambda: f"sqlite:///{self.var_dir / 'atm.sqlite3'}"
        )

    def publish(self) -> Callable[[str], None] | None:
        default = str(self.var_dir / "audit-checkpoints.v2.jsonl") if self.debug else ""
        value = self.env.get("AUDIT_CHECKPOINT_SINK", default).strip()
        if not value:
            return None
        sink = sink_parse(value)
        return lambda line: sink_write(sink, line)


def chain_connect(url: str) -> tuple[DbChain, Callable[[], None]]:
    """A read-only connection: SQLite opened with mode=ro, PostgreSQL in read-only transactions (and give the
    witness a role with SELECT on the two audit tables only)."""
    parts = urlsplit(url)
    if parts.scheme in ("sqlite", "sqlite3"):
        connection = sqlite3.connect(f"file:{parts.path[1:]}?mode=ro", uri=True, timeout=20)
        return DbChain(connection.cursor, "?"), connection.close
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        import psycopg

        pg = psycopg.connect(
            url.replace("pgsql://", "postgresql://", 1),
            options="-c default_transaction_read_only=on",
            autocommit=True,
        )
        return DbChain(pg.cursor, "%s"), pg.close
    raise WitnessConfigError(f"unsupported database URL scheme {parts.scheme!r}")


def sign_once(config: Config) -> SignResult:
    chain, close = chain_connect(config.database_url())
    try:
        return witness_sign(
            chain=chain,
            keys=config.private_keys(),
            log=config.log(),
            now=dt.datetime.now(dt.UTC),
            publish=config.publish(),
        )
    finally:
        close()


def _handler(log: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/checkpoints":
                self.send_error(404)
                return
            body = log.read_bytes() if log.exists() else b""
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per audit_verify is noise; refusals are what the witness reports

    return Handler


def serve(config: Config, *, rounds: int | None = None) -> None:
    """Sign every AUDIT_WITNESS_INTERVAL_S and answer GET /checkpoints with the witness's own log."""
    host, _, port = config.env.get("AUDIT_WITNESS_LISTEN", "127.0.0.1:8765").rpartition(":")
    interval = float(config.env.get("AUDIT_WITNESS_INTERVAL_S", "300"))
    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), _handler(config.log()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"audit witness: serving {config.log()} on http://{host}:{port}/checkpoints", flush=True)
    done = 0
    try:
        while rounds is None or done < rounds:
            _report(config)
            done += 1
            time.sleep(interval)
    finally:
        server.shutdown()


def _report(config: Config) -> bool:
    try:
        result = sign_once(config)
    except (CheckpointError, WitnessConfigError, OSError, sqlite3.Error) as error:
        # A refusal is the alarm this process exists for: stderr (and the supervisor's log), exit status 1.
        print(f"audit witness: NOT SIGNED: {error}", file=sys.stderr, flush=True)
        return False
    if result.written:
        print(f"audit witness: signed {result.checkpoint} -> {config.log()}", flush=True)
    else:
        print(
            f"audit witness: nothing signed: {result.reason} ({result.checkpoint or 'no checkpoint'})",
            flush=True,
        )
    return True


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="audit_witness", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["new-key", "public-key", "sign", "serve"])
    command = parser.parse_args(argv).command
    config = Config(dict(os.environ if environ is None else environ))
    try:
        if command == "new-key":
            seed = new_seed_text()
            print(f"AUDIT_WITNESS_KEY={seed}  # the witness's environment only")
            print(
                f"AUDIT_WITNESS_PUBLIC_KEY={public_key_text(private_key_parse(seed).public_key())}  # portal"
            )
            return 0
        if command == "public-key":
            publics = ",".join(public_key_text(key.public_key()) for key in config.private_keys())
            print(f"AUDIT_WITNESS_PUBLIC_KEY={publics}")
            return 0
        # Configuration first: a witness without its key, log or database stops here (status 2).
        config.private_keys(), config.log(), config.database_url(), config.publish()
        if command == "serve":
            serve(config)
            return 0
    except (WitnessConfigError, CheckpointError) as error:
        print(f"audit witness: {error}", file=sys.stderr)
        return 2
    return 0 if _report(config) else 1
