"""`python -m protocol asyncapi [ROLE]`: print the AsyncAPI document of one broker role
(default hub) generated from the code; `python -m protocol asyncapi --write` rewrites them all."""

import sys
from pathlib import Path

from protocol.asyncapi import DOCUMENTS, render

USAGE = f"usage: python -m protocol asyncapi [{'|'.join(DOCUMENTS)}|--write]"

if __name__ == "__main__":
    args = sys.argv[1:]
    if args == ["asyncapi", "--write"]:
        root = Path(__file__).resolve().parents[1]
        for role, path in DOCUMENTS.items():
            (root / path).write_text(render(role))
            print(f"wrote {path}")
    elif args[:1] == ["asyncapi"] and len(args) <= 2 and all(a in DOCUMENTS for a in args[1:]):
        sys.stdout.write(render(*args[1:]))
    else:
        sys.exit(USAGE)
