"""Unified Social Credit Code (统一社会信用代码, GB 32100-2015) of a merchant."""

from __future__ import annotations

import re
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SHAPE = re.compile(rf"^[{ALPHABET}]{{2}}[0-9]{{6}}[{ALPHABET}]{{10}}$")
_SEPARATORS = re.compile(r"[\s\-]+")


class InvalidUscc(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise_uscc(value: str) -> str:
    """Return the code in upper case, or raise :class:`InvalidUscc` with a message for the form.

    Checks length, alphabet, the 6-digit division code and the check character; not the authority and kind
    codes of positions 1–2, whose tables grow and whose strict checking would turn away real merchants.

    Like python-stdnum's ``cn.uscc.compact``, spaces and hyphens are dropped; the text is NFKC-normalised first
    (full-width characters become ASCII) and then only ASCII letters and digits are accepted."""
    code = _SEPARATORS.sub("", unicodedata.normalize("NFKC", value or "")).upper()
    if len(code) != 18:
        raise InvalidUscc("统一社会信用代码应为 18 位。")
    if not _SHAPE.match(code):
        raise InvalidUscc("统一社会信用代码含有不允许的字符（不使用 I、O、S、V、Z），或第 3–8 位不是行政区划代码。")
    if check_character(code[:17]) != code[17]:
        raise InvalidUscc("统一社会信用代码校验位不正确，请核对后重新输入。")
    return code


def make_uscc(body: str) -> str:
    """Complete 17 characters with their check character (demo and test data)."""
    return body + check_character(body)
