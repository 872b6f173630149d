"""The bot's sentences keep the core's words as written (issue 11, item 12)."""

from __future__ import annotations

import pytest

from bot import messages
from nextcaller_ops.api.phone import parse
from nextcaller_ops.errors import InvalidPhoneError


def test_bad_number_capitalises_the_first_letter_only():
    with pytest.raises(InvalidPhoneError) as info:
        parse("+44 20 7946 0958")
    text = messages.bad_number(info.value)
    assert text.startswith("Not a phone number ") and "not a US number (GB)" in text
