"""Our own barcodes as printable Code 128 (python-barcode's SVG writer): badges, locations,
orders, purchase orders, quantities and the command sheet, for the stations to scan."""

import io

from protocol.labels import is_own_label

__all__ = ["NotALabel", "code128_svg", "is_own_label"]

# Bars of 0.33 mm and a 6 mm quiet zone scan from a hand scanner at arm's length when
# printed on an office laser or a 203 dpi label printer.
_OPTIONS = {"module_width": 0.33, "module_height": 12.0, "quiet_zone": 6.0,
            "font_size": 9, "text_distance": 4.0}  # fmt: skip


class NotALabel(ValueError):
    pass


def code128_svg(code: str) -> bytes:
    """The SVG image of one of our labels (raises NotALabel for anything else: the hub
    prints only what the stations read)."""
    if not is_own_label(code):
        raise NotALabel(f"{code!r} is not one of the warehouse's labels (see docs/workflows.md)")
    # Imported at the first label drawn, not at the hub's start: python-barcode's writers
    # module imports Pillow for its image writer, which the hub does not use (7 MB of every
    # hub process's memory, most of which never draws a label).
    from barcode import Code128
    from barcode.writer import SVGWriter

    out = io.BytesIO()
    Code128(code, writer=SVGWriter()).write(out, options=_OPTIONS)
    return out.getvalue()
