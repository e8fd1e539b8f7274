#!/usr/bin/env python3
"""Draw each icon of icons/*.svg as a PNG (icons/png/NAME.png) for the Word file, with Debian's Chromium.

Word documents made by pandoc need a bitmap beside each SVG for LibreOffice and older Word to
show it; the PNGs are drawn once here, in the pages' blue, and shipped. Run it again after
adding an icon:

    python templates/easy_read/make_pictures.py
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZE = 192
COLOUR = "#0b3d6b"


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "install Debian's chromium"
    out = HERE / "icons" / "png"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for svg in sorted((HERE / "icons").glob("*.svg")):
            page = Path(tmp) / f"{svg.stem}.html"
            body = svg.read_text(encoding="utf-8").replace('width="16" height="16"', f'width="{SIZE}" height="{SIZE}"')
            page.write_text(f'<html><body style="margin:0;color:{COLOUR};background:transparent">{body}</body></html>',
                            encoding="utf-8")
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp}/profile",
                            "--hide-scrollbars", "--default-background-color=00000000",
                            f"--window-size={SIZE},{SIZE}", f"--screenshot={out / (svg.stem + '.png')}",
                            page.as_uri()], check=True, capture_output=True, timeout=60)


if __name__ == "__main__":
    main()
