"""Renders a label to ZPL II for a 4x6 inch label at 203 dpi (most shipping-label printers).

There is no offline ZPL renderer for Python, so the layout is kept here, simple, and
pinned by golden files.
"""

from station.drivers.printers.labels import Label, Text

LEFT = 40  # dots from the left edge
TOP = 40
TEXT_HEIGHT = {False: 30, True: 60}  # normal / large, in dots
BARCODE_HEIGHT = 120
GAP = 20


def render_zpl(label: Label) -> bytes:
    lines = ["^XA", "^CI28", "^PW812", "^LL1218", "^LH0,0"]
    y = TOP
    for element in label.elements:
        if isinstance(element, Text):
            height = TEXT_HEIGHT[element.large]
            font = f"^A0N,{height},{height if element.bold else height * 4 // 5}"
            lines.append(f"^FO{LEFT},{y}{font}^FH_^FD{field_data(element.text)}^FS")
            y += height + GAP
        else:
            lines.append(
                f"^FO{LEFT},{y}^BY3^BCN,{BARCODE_HEIGHT},Y,N,N^FH_^FD{field_data(element.data)}^FS"
            )
            y += BARCODE_HEIGHT + 40 + GAP  # room for the human-readable line
    lines.append("^XZ")
    return ("\n".join(lines) + "\n").encode("ascii")


def field_data(text: str) -> str:
    """Text for `^FH_^FD`: ZPL's control characters and non-ASCII as _XX hex (UTF-8, ^CI28)."""
    out = []
    for ch in text:
        if ch in "^~_\\" or not (32 <= ord(ch) < 127):
            out.extend(f"_{byte:02X}" for byte in ch.encode("utf-8"))
        else:
            out.append(ch)
    return "".join(out)
