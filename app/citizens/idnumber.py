"""Resident identity numbers (GB 11643-1999) and the adult check.

Hong Kong / Macau / Taiwan residence-permit numbers (810000 / 820000 / 830000 …) follow the same layout and
checksum and are accepted. Only the province (the first two digits) is checked against the fixed list of GB/T 2260
provinces; the county codes below it change over the years and a citizen must never be refused for an
administrative renaming.

Input is NFKC-normalised first (full-width ``３３０６…`` becomes ``3306…``), then only ASCII digits are accepted:
a regex digit class would also match Arabic-Indic or Devanagari digits, and such a number would index as another
person.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_FORMAT = re.compile(r"^[0-9]{17}[0-9X]$")
# Provinces, autonomous regions, municipalities, Taiwan, and the Hong Kong / Macau / Taiwan residence permits.
PROVINCE_CODES = frozenset(
    [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66), 71, 81, 82, 83]
)
ADULT_AGE = 18


class InvalidIdNumber(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


def check_digit(first17: str) -> str:
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise(raw: str) -> str:
    """The number as typed, NFKC-normalised (full-width forms become ASCII), trimmed and in upper case."""
    return unicodedata.normalize("NFKC", raw).strip().upper() if isinstance(raw, str) else ""


def parse_id_number(raw: str, today: date | None = None) -> ResidentId:
    number = normalise(raw)
    if len(number) != 18:
        raise InvalidIdNumber("id_number_length", "身份证号码应为18位。")
    if not _FORMAT.match(number):
        raise InvalidIdNumber("id_number_format", "身份证号码格式不正确：前17位应为数字，最后一位为数字或X。")
    if int(number[:2]) not in PROVINCE_CODES:
        raise InvalidIdNumber("id_number_area", "身份证号码前两位不是有效的省级行政区划代码，请核对后重新输入。")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber("id_number_date", "身份证号码中的出生日期不存在。") from None
    today = today or date.today()
    if birth > today or birth.year < 1900:
        raise InvalidIdNumber("id_number_date", "身份证号码中的出生日期不合理。")
    if check_digit(number[:17]) != number[17]:
        raise InvalidIdNumber("id_number_checksum", "身份证号码校验位不正确，请核对后重新输入。")
    return ResidentId(number=number, birth_date=birth)


def parse_adult_id_number(raw: str, today: date | None = None) -> ResidentId:
    resident = parse_id_number(raw, today)
    if resident.age_on(today or date.today()) < ADULT_AGE:
        raise InvalidIdNumber("not_adult", "个人信用分仅面向年满18周岁的居民。")
    return resident


def make_id_number(area: str, birth: date, sequence: int) -> str:
    """Build a valid number (demo data and tests): 6-digit area, birth date, 3-digit sequence, check digit."""
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)
