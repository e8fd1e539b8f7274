"""Starting a review: the README's commands are the CLI's, and a new review.yaml shows the way.

Every `reviewkit …` line in the README's examples must parse with the real parser, and the
host set-up example must make the host the host (not a visiting reviewer). A new review.yaml
carries commented examples of a case allocation (with a moderation case) and a previous
review; uncommented, they are a valid review.yaml.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from reviewkit import cli
from reviewkit.review.reviewyaml import parse_meta
from reviewkit.review.workspace import REVIEW_FILE, open_workspace

README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_commands() -> list[list[str]]:
    """Each `reviewkit …` command in the README's code blocks, continuation lines joined."""
    text = README.read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```[^\n]*\n(.*?)```", text, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["reviewkit"] and not any(w.startswith("[") for w in words):  # not a synopsis
                commands.append(words[1:])
    return commands


def test_every_readme_command_parses() -> None:
    commands = _readme_commands()
    assert len(commands) >= 10
    parser = cli.build_parser()
    for words in commands:
        args = parser.parse_args(words)  # a usage error exits 2 and fails the test
        assert args.handler is not None


def test_readme_new_example_makes_the_host_the_host(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [new] = [c for c in _readme_commands() if c[0] == "new" and "--in-house" not in c]
    new[1] = str(tmp_path / "review")
    assert cli.main(new) == 0
    capsys.readouterr()
    meta = open_workspace(tmp_path / "review").meta
    roles = {m.name: m.role for m in meta.team}
    assert roles == {"A. Visitor": "visiting", "B. Visitor": "visiting", "C. Visitor": "visiting",
                     "H. Host": "host"}
    # The same example as `new -h` gives.
    with pytest.raises(SystemExit):
        cli.main(["new", "-h"])
    assert '--host "H. Host"' in capsys.readouterr().out


def test_readme_in_house_example_makes_a_programme(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from reviewkit.inhouse.programme import open_programme

    [new] = [c for c in _readme_commands() if c[0] == "new" and "--in-house" in c]
    new[1] = str(tmp_path / "programme")
    assert cli.main(new) == 0
    capsys.readouterr()
    p = open_programme(tmp_path / "programme")
    assert p.teams == ("Northgate Locality Team", "Riverside Locality Team")
    assert p.auditors == ("M. Auditor", "N. Auditor")


def _example(lines: list[str], first: str) -> list[str]:
    """The commented example starting at ``first``, to the end of its comment block, uncommented."""
    block = []
    for line in lines[lines.index(first):]:
        m = re.fullmatch(r"(\s*)# ?(.*)", line)
        if not m:
            break
        block.append(m.group(1) + m.group(2))
    return block


def _uncommented(text: str) -> str:
    """review.yaml with the examples taken in as its comments say."""
    lines = text.splitlines()
    cases, previous = _example(lines, "# cases:"), _example(lines, "  # date: 2022-06")
    out: list[str] = []
    for line in lines:
        if line == "cases: []":
            out += cases
        elif line == "  date: ''":
            out += previous
        elif line != "  recommendations: []":
            out.append(line)
    return "\n".join(out) + "\n"


def test_new_review_yaml_has_commented_examples_that_are_valid(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["new", str(tmp_path / "review"), "--council", "Testshire Council", "--theme", "Practice",
                     "--reviewer", "A. Visitor", "--reviewer", "B. Visitor", "--host", "H. Host"]) == 0
    path = tmp_path / "review" / REVIEW_FILE
    text = path.read_text(encoding="utf-8")
    assert "# - id: C01" in text and "#   moderators: [B. Visitor]" in text
    assert "# - text: " in text and "#   update: " in text
    assert open_workspace(tmp_path / "review").meta.cases == []  # the comments change nothing
    meta = parse_meta(yaml.safe_load(_uncommented(text)), str(path))
    assert [(c.id, c.reviewer, c.moderators, c.team) for c in meta.cases] == [
        ("C01", "A. Visitor", ("B. Visitor",), "Long-term support"), ("C02", "A. Visitor", (), "Hospital discharge"),
        ("C03", "B. Visitor", (), "Long-term support")]
    assert meta.previous_date == "2022-06"
    assert len(meta.previous_recommendations) == 2
    assert all(r.text and r.update for r in meta.previous_recommendations)
