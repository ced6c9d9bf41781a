"""AIM symbology identifiers (ISO/IEC 15424): the `]C1` a scanner may put before a code.

They are the only reliable way to tell GS1-128 from plain Code 128, so every scanner
(serial or keyboard wedge) splits them off the same way.
"""

import re

AIM_ID = re.compile(r"^\][A-Za-z][0-9A-Za-z]")


def split_aim(text: str) -> tuple[str, str | None]:
    """`"]C1010..."` -> `("010...", "]C1")`; text without an identifier -> `(text, None)`."""
    if AIM_ID.match(text):
        return text[3:], text[:3]
    return text, None
