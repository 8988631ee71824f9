"""The documentation's generated pages are current, and say nothing a user cannot find:
no page, README or ``--help`` names a file the repository does not hold."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from qubicle_dev import docgen

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_every_generated_page_is_current() -> None:
    assert docgen.stale() == [], "run: .venv/bin/python -m qubicle_dev.docgen"


def test_the_configuration_page_names_every_setting_with_a_meaning() -> None:
    import dataclasses

    from app.config import Settings

    page = (docgen.REFERENCE / "configuration.md").read_text()
    for f in dataclasses.fields(Settings):
        assert f.metadata["help"], f.name
        assert f"| `{f.metadata['env']}` |" in page


def test_the_cli_page_shows_every_command_and_exit_status() -> None:
    from app.cli import commands
    from app.commands.failures import EXIT_STATUSES

    page = (docgen.REFERENCE / "cli.md").read_text()
    for command in commands():
        assert f"usage: qubicle-reports {command.name}" in page
    for code, _ in EXIT_STATUSES:
        assert f"| {code} |" in page


def help_texts() -> str:
    from app.cli import commands

    out = [
        subprocess.run(
            [sys.executable, "-m", "app.cli", *args, "--help"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for args in ([], *([c.name] for c in commands()))
    ]
    return "\n".join(out)


def test_no_page_or_help_names_a_file_the_repository_does_not_hold() -> None:
    texts = {str(p.relative_to(ROOT)): p.read_text() for p in TEXTS}
    texts["--help"] = help_texts()
    for name, text in texts.items():
        for private in ("CONTRACT.md", "COUCH_FACTS.md"):
            assert private not in text, (name, private)
        # every repository path a page names in backticks exists (a folder or a file)
        for path in re.findall(r"`((?:app|dev|bench|tests|deploy|devcouch|docs)/[\w./-]*)`", text):
            assert (ROOT / path.rstrip("/")).exists(), (name, path)


def test_every_link_of_the_readme_into_the_repository_resolves() -> None:
    """The site's links are checked by ``mkdocs build --strict``; the README is not in it."""
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(((?!https?:)[^)#]+)(?:#[^)]*)?\)", readme)
    assert len(links) >= 10
    for link in links:
        assert (ROOT / link).exists(), link


def test_the_site_links_only_to_its_own_pages() -> None:
    """A link out of docs/ (``../README.md``) is a dead link on the published site, and
    ``mkdocs build --strict`` lets it pass."""
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for link in re.findall(r"\]\(((?!https?:|#)[^)#\s]+)", page.read_text()):
            target = (page.parent / link).resolve()
            assert target.is_relative_to(ROOT / "docs") and target.exists(), (page.name, link)


def test_the_readme_is_a_front_page() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    assert "](docs/dashboard.png)" in readme and "make demo" in readme and "make test" in readme
