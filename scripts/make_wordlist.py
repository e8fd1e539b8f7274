"""Build templates/privacy/english_words.txt.gz from Debian's wbritish word list (SCOWL).

The publish gate treats a capitalised word as ordinary English only when the word list has
it in lower case: proper nouns (names, places) are the list's capitalised entries, so they
are left out. Run after `apt-get install wbritish`; the result ships inside the package, so
an install by pip needs no system word list.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

SOURCE = Path("/usr/share/dict/british-english")
OUT = Path(__file__).resolve().parent.parent / "templates" / "privacy" / "english_words.txt.gz"


def main() -> int:
    words = sorted({w for w in SOURCE.read_text(encoding="utf-8").split()
                    if w[:1].islower() and not w.endswith("'s")})
    data = ("\n".join(words) + "\n").encode("utf-8")
    OUT.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{OUT}: {len(words)} words, {OUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
