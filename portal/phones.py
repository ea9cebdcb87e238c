"""UK telephone numbers, with Google's libphonenumber (the `phonenumbers` package) rather than
a hand-written pattern: it knows every UK number range."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat


def parse_uk_phone(text: str) -> str | None:
    """The number in E.164 form ('+441214960001') if ``text`` is a valid UK number, else None."""
    try:
        number = phonenumbers.parse(text, "GB")
    except NumberParseException:
        return None
    if number.country_code != 44 or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


# A council's contacts share a few hundred numbers and a page shows dozens; parsing one is
# about 0.2 ms, so each number is worked out once. The answer depends on the number alone
# (and the installed phonenumbers' data), so it is never stale.
@lru_cache(maxsize=4096)
def national(e164: str | None) -> str:
    """'+441214960001' as people in the UK write it: '0121 496 0001'."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "GB")
    except NumberParseException:
        return e164
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
