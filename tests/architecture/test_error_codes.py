"""Refusals are typed: every ApplicationError names an error-code enum member, code compares members and
every member carries its wording (issue 25, item 3). Read from the source with ast, so a new raise site is
checked without being run."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.functional import Promise

from atmsite.errors import ApplicationError, ErrorCode

ROOT = Path(__file__).resolve().parents[2]
APPS = ["atmsite", "notifications", "audit", "accounts", "biometrics", "kiosk", "portal", "branch", "bench"]


def _sources() -> list[Path]:
    files = []
    for app in APPS:
        if (ROOT / app).is_dir():
            files += [path for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]
    return files


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _is_text(node: ast.AST) -> bool:
    """A string written into the call: a literal, an f-string, "..." % x, or _("...")."""
    if (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _is_text(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
        return node.func.id in {"_", "gettext", "gettext_lazy", "str"} and _is_text(node.args[0])
    return False


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _where(path: Path, node: ast.AST) -> str:
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return f"{name}:{getattr(node, 'lineno', '?')}"


def _string_codes_raised(path: Path) -> list[str]:
    bad = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Call) and _called_name(node) == "ValidationError":
            # A validator's refusal carries a code too (mapped onto ApplicationError by `from_code`): it is
            # raised as `AccountsError.X.invalid()`, never with a code written in.
            if any(keyword.arg == "code" and _is_text(keyword.value) for keyword in node.keywords):
                bad.append(_where(path, node))
            continue
        if not (isinstance(node, ast.Call) and _called_name(node) == "ApplicationError"):
            continue
        code = node.args[0] if node.args else None
        # The wording lives in <app>/errors.py; a raise site passes a message only when it comes from
        # elsewhere (a validator, the face engine) or is a second wording defined beside the enum.
        message = [*node.args[1:2], *(keyword.value for keyword in node.keywords if keyword.arg == "message")]
        if (
            code is None
            or _is_text(code)
            or any(keyword.arg == "code" for keyword in node.keywords)
            or any(_is_text(text) for text in message)
        ):
            bad.append(_where(path, node))
    return bad


def _is_code(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "code"


def _has_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_has_text(element) for element in node.elts)
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _string_codes_compared(path: Path) -> list[str]:
    bad = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_code(side) for side in sides) and any(_has_text(side) for side in sides):
                bad.append(_where(path, node))
    return bad


def test_the_checks_catch_what_they_forbid(tmp_path: Path) -> None:
    # The walkers above would pass an empty or unparsed tree: prove they flag the old spellings.
    sample = tmp_path / "sample.py"
    sample.write_text(
        "raise ApplicationError('Insufficient funds.', code='insufficient_funds')\n"
        "raise ApplicationError(_('Frame out of order.') % {}, code=x)\n"
        "raise errors.ApplicationError(f'{what} changed')\n"
        "if error.code == 'frame_replayed': pass\n"
        "if error.code in ('a', 'b'): pass\n"
        "raise ApplicationError(KioskError.FRAME_REPLAYED, status_code=400)\n"
        "if error.code == KioskError.FRAME_REPLAYED: pass\n"
        "raise ApplicationError(KioskError.WRONG_STATE, _('Not now.'))\n"
        "raise ApplicationError(KioskError.WRONG_STATE, errors.NOT_NOW, status_code=409)\n"
        "raise ValidationError('The card has expired.', code='expired')\n"
        "raise AccountsError.EXPIRED.invalid(errors.CARD_EXPIRED)\n"
    )
    assert _string_codes_raised(sample) == [
        "sample.py:1",
        "sample.py:2",
        "sample.py:3",
        "sample.py:8",
        "sample.py:10",
    ]
    assert _string_codes_compared(sample) == ["sample.py:4", "sample.py:5"]


def test_no_application_error_is_raised_with_a_string_code_or_its_own_words() -> None:
    bad = [where for path in _sources() for where in _string_codes_raised(path)]
    assert not bad, f"refusals take an error-code enum member (its wording in errors.py): {bad}"


def test_a_validator_refusal_keeps_its_code_and_wording() -> None:
    from accounts.errors import AccountsError

    with translation.override("en"):
        error = AccountsError.LIMIT_TOO_LARGE.invalid(max=5)
        assert (error.code, error.messages) == (
            "limit_too_large",
            ["The daily limit cannot be above the largest balance (5)."],
        )
    with translation.override("ru"):
        stolen = AccountsError.CARD_STOLEN.invalid().messages[0]
        assert stolen != "A card reported stolen is never unblocked; issue a new card."


def test_no_code_is_compared_with_a_string() -> None:
    bad = [where for path in _sources() for where in _string_codes_compared(path)]
    assert not bad, f"compare error codes with enum members: {bad}"


def _enums() -> list[type[ErrorCode]]:
    enums = []
    for app in APPS:
        if (ROOT / app / "errors.py").is_file() and app != "atmsite":
            module = importlib.import_module(f"{app}.errors")
            enums += [
                value
                for value in vars(module).values()
                if isinstance(value, type) and issubclass(value, ErrorCode) and value is not ErrorCode
            ]
    return enums


def test_each_app_with_refusals_has_its_enum() -> None:
    names = {enum.__name__ for enum in _enums()}
    assert {"AccountsError", "AuditError", "BiometricsError", "KioskError", "PortalError"} <= names


@pytest.mark.parametrize("enum", _enums(), ids=lambda enum: enum.__name__)
def test_every_member_has_its_message(enum: type[ErrorCode]) -> None:
    with translation.override("en"):
        missing = [member.name for member in enum if not str(member.message).strip()]
        assert not missing, f"{enum.__name__} members without a message: {missing}"
        # The value is the wire code (lower_snake, what API clients and the kiosk's JS read).
        assert all(member == member.value and member.value.islower() for member in enum)


def _wordings() -> list[tuple[str, str]]:
    """(name, English text) of every member's message and every second wording beside the enums."""
    found = [(f"{enum.__name__}.{member.name}", str(member.message)) for enum in _enums() for member in enum]
    for app in APPS:
        if (ROOT / app / "errors.py").is_file() and app != "atmsite":
            module = importlib.import_module(f"{app}.errors")
            found += [
                (f"{app}.errors.{name}", str(value))
                for name, value in vars(module).items()
                if isinstance(value, Promise)
            ]
    return found


def test_a_wording_is_written_once_across_the_enums() -> None:
    with translation.override("en"):
        seen: dict[str, str] = {}
        twice = []
        for name, text in _wordings():
            # The engine's refusals of a kiosk frame and of a branch upload share its words under two codes.
            if text in seen and not name.split(".")[-1].startswith(("FRAME_", "IMAGE_", "CLIP_")):
                twice.append(f"{name} = {seen[text]}")
            seen.setdefault(text, name)
    assert not twice, f"the same sentence on two members (reuse the first): {twice}"


def test_the_message_is_the_members_wording_in_the_active_language() -> None:
    from accounts.errors import AccountsError
    from kiosk.errors import KioskError

    with translation.override("en"):
        assert ApplicationError(AccountsError.INSUFFICIENT_FUNDS).message == "Insufficient funds."
        refusal = ApplicationError(KioskError.DEPOSIT_TOO_MANY_NOTES, params={"max": 50})
        assert refusal.message == "Too many notes in one deposit (at most 50)."
        assert refusal.code == "deposit_too_many_notes"
    with translation.override("ru"):
        assert ApplicationError(AccountsError.INSUFFICIENT_FUNDS).message not in ("", "Insufficient funds.")
        assert "50" in ApplicationError(KioskError.DEPOSIT_TOO_MANY_NOTES, params={"max": 50}).message
