"""`python -m zoopark.tools.jutegen [--check]`: write core/jute/records.py from core/jute/schema.py.

With --check it writes nothing and exits 1 if the checked-in file is not what the schema generates.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..core.jute import schema

RECORDS_PY = Path(schema.__file__).with_name("records.py")


def main(argv: list[str]) -> int:
    text = schema.render()
    if "--check" in argv:
        if RECORDS_PY.read_text(encoding="utf-8") != text:
            print(f"{RECORDS_PY} is not what core/jute/schema.py generates: run python -m zoopark.tools.jutegen")
            return 1
        return 0
    RECORDS_PY.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
