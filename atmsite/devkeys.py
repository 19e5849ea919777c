"""Development secrets generated on first run into the git-ignored var/ directory.

Used only when DEBUG is on and the production variable is absent, so `make run` works with no configuration
while no key ever lives in the repository. Production (DEBUG=false) refuses to start without real variables.
Read by the settings and by bench's seed_demo (the demo staff password): a core module, so seed_demo need not
import the settings package.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

_GENERATORS = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "FIELD_ENCRYPTION_KEY": lambda: Fernet.generate_key().decode(),
    "CARD_HMAC_KEY": lambda: secrets.token_urlsafe(32),
    "OTP_HMAC_KEY": lambda: secrets.token_urlsafe(32),
    "PIN_PEPPER": lambda: secrets.token_urlsafe(32),
    "DEMO_STAFF_PASSWORD": lambda: "demo-" + secrets.token_urlsafe(9),
    "AUDIT_CHAIN_KEY": lambda: secrets.token_urlsafe(32),
}


def dev_secret(var_dir: Path, name: str) -> str:
    path = var_dir / "dev-secrets.json"
    var_dir.mkdir(parents=True, exist_ok=True)
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if name not in stored:
        stored[name] = _GENERATORS[name]()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)
    return stored[name]
