"""Card-less PIN verifiers keyed with a secret held outside the database (issue 20, item 6).

A 4-digit PIN has 10,000 values: a slow hash alone is no protection once the database is copied (every value
tried in minutes). So the PIN is first keyed with HMAC-SHA256 under settings.PIN_PEPPER, which lives in the
environment, never in the database, and the slow hash (Django's password hasher: PBKDF2 in production) is
taken of that. Stored: ``pepper1$<pepper id>$<django hash>``; the pepper id is a digest of the key, so it
names which listed pepper to use without revealing it.

Rotation: PIN_PEPPER lists keys newest first. A verifier under an older listed key, or an unkeyed one from
before this scheme, still verifies and is rewritten under the newest key at the customer's next right PIN
(``pin_verifier_check`` says so). ``manage.py pin_pepper_rotate`` reports who is still on an old key; a
keyed hash cannot be re-keyed without the PIN, so ``--retire`` sends those customers to a branch reset
before the old key is dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.contrib.auth.hashers import check_password, identify_hasher, make_password

PREFIX = "pepper1"


def _peppers() -> list[str]:
    keys = settings.PIN_PEPPER
    return [keys] if isinstance(keys, str) else list(keys)


def pepper_id(pepper: str) -> str:
    return hashlib.sha256(f"pin-pepper-id:{pepper}".encode()).hexdigest()[:12]


def _keyed(pin: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), f"cardless-pin:{pin}".encode(), hashlib.sha256).hexdigest()


def pin_verifier_make(pin: str) -> str:
    """The stored verifier of `pin` under the newest pepper. Never logged, shown or returned."""
    pepper = _peppers()[0]
    return f"{PREFIX}${pepper_id(pepper)}${make_password(_keyed(pin, pepper))}"


@cache
def _nobody_verifier() -> str:
    return make_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class PinCheck:
    ok: bool
    upgrade: bool  # right, but stored under an older pepper, no pepper, or weaker hasher settings


def pepper_of(stored: str) -> str:
    """The pepper id a verifier is keyed with ("" for an unkeyed legacy one)."""
    if stored.startswith(f"{PREFIX}$"):
        return stored.split("$", 2)[1]
    return ""


def pin_verifier_check(pin: str, stored: str) -> PinCheck:
    """Check `pin` against a stored verifier; costs one slow hash whatever the outcome."""
    if not stored:
        check_password(pin, _nobody_verifier())
        return PinCheck(ok=False, upgrade=False)
    if not stored.startswith(f"{PREFIX}$"):
        ok = check_password(pin, stored)  # unkeyed, from before PIN_PEPPER: upgraded on a right entry
        return PinCheck(ok=ok, upgrade=ok)
    _prefix, wanted, inner = stored.split("$", 2)
    peppers = {pepper_id(pepper): pepper for pepper in _peppers()}
    pepper = peppers.get(wanted)
    if pepper is None:  # its pepper was dropped from PIN_PEPPER: nothing can verify it any more
        check_password(pin, _nobody_verifier())
        return PinCheck(ok=False, upgrade=False)
    ok = check_password(_keyed(pin, pepper), inner)
    newest = wanted == pepper_id(_peppers()[0])
    return PinCheck(ok=ok, upgrade=ok and (not newest or identify_hasher(inner).must_update(inner)))
