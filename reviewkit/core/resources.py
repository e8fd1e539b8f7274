"""Where the files reviewkit ships live: audit tools, scales, codebooks, templates, notebooks, sample review.

In a checkout (and the editable install ``make test`` uses) they are the top-level folders
``templates/``, ``notebooks/`` and ``sample_data/`` beside the package. A wheel carries the
same folders inside the package, as ``reviewkit/shipped/…`` (see pyproject.toml), so that an
install by pip works from any folder. This is the one lookup that hides the difference.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["shipped", "shipped_root"]

_CHECKOUT = Path(__file__).resolve().parents[2]  # reviewkit/core/resources.py -> the checkout


def shipped_root() -> Path:
    """The folder holding ``templates/``, ``notebooks/`` and ``sample_data/``.

    A real folder either way (pip installs wheels unpacked): nbconvert, papermill and Voila
    need paths, not streams.
    """
    inside = resources.files("reviewkit") / "shipped"
    if isinstance(inside, Path) and inside.is_dir():
        return inside
    return _CHECKOUT


def shipped(*parts: str) -> Path:
    """A shipped file or folder, e.g. ``shipped("templates", "audit_tools")``."""
    return shipped_root().joinpath(*parts)
