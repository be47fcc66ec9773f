"""The code blocks of the docs pages, with the page and line they come from.

The pages hold their code, so that they read well on a code host or in an editor. A block
preceded by an HTML comment naming a path is bound to it:

- ``<!-- example: docs/examples/NAME.py -->``: the block *is* that example. A Python example
  whose file does not exist lives only in the page; `materialize` writes it out for the tests
  to import or run. When the file exists too (a whole project's file, a template, an event),
  the block must equal it.
- ``<!-- excerpt: docs/examples/NAME -->``: the block is a part of that file, word for word.
- ``<!-- output: docs/examples/NAME.txt -->``: the block shows that output, after the
  ``$ command`` line(s) it may start with. The tests compare the output with the file, and the
  file with the page.

Other tools (mypy here, pyright later) run on `python_blocks` or on what `materialize` writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_MARKER = re.compile(r"^[ \t]*<!-- (?P<kind>example|output|excerpt): (?P<path>\S+) -->[ \t]*$")
_TITLE = re.compile(r'title="([^"]*)"')


@dataclass(frozen=True)
class Block:
    """One fenced code block of a docs page."""

    page: Path
    line: int
    """The 1-based line of the page where the block's first line of code is."""
    language: str
    title: str | None
    kind: str | None
    """``"example"``, ``"excerpt"`` or ``"output"`` when a marker binds the block, else ``None``."""
    path: str | None
    """The path the marker names, relative to the repository (``docs/examples/...``)."""
    text: str
    """The block's content, its indentation removed, ending with a newline."""

    @property
    def where(self) -> str:
        """``docs/page.md:LINE``, for messages."""
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def shown(self) -> str:
        """What the block shows of its bound file: the text without leading ``$ `` lines."""
        lines = self.text.splitlines(keepends=True)
        while self.kind == "output" and lines and lines[0].startswith("$ "):
            lines.pop(0)
        return "".join(lines)


def pages() -> list[Path]:
    """Every Markdown page of the docs, sorted."""
    return sorted(DOCS.glob("*.md"))


def blocks(page: Path) -> Iterator[Block]:
    """Yield the fenced code blocks of *page*, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opener = _FENCE.match(lines[index])
        if opener is None:
            index += 1
            continue
        indent, fence, info = opener["indent"], opener["fence"], opener["info"].strip()
        marker = _MARKER.match(lines[index - 1]) if index else None
        start = index + 1
        end = start
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        content = [
            line[len(indent) :] if line.startswith(indent) else line.lstrip()
            for line in lines[start:end]
        ]
        title = _TITLE.search(info)
        yield Block(
            page=page,
            line=start + 1,
            language=info.split(maxsplit=1)[0] if info else "",
            title=title[1] if title else None,
            kind=marker["kind"] if marker else None,
            path=marker["path"] if marker else None,
            text="".join(f"{line}\n" for line in content),
        )
        index = end + 1


def all_blocks(in_pages: Iterable[Path] | None = None) -> Iterator[Block]:
    """Yield the code blocks of every page (or of *in_pages*)."""
    for page in pages() if in_pages is None else in_pages:
        yield from blocks(page)


def python_blocks(in_pages: Iterable[Path] | None = None) -> Iterator[Block]:
    """Yield the Python blocks of every page (or of *in_pages*)."""
    return (block for block in all_blocks(in_pages) if block.language in {"python", "py"})


def page_examples() -> dict[str, Block]:
    """The Python examples that live only in the pages, by file name (``index_app.py``)."""
    examples: dict[str, Block] = {}
    for block in python_blocks():
        if block.kind == "example" and block.path and not (ROOT / block.path).exists():
            examples.setdefault(Path(block.path).name, block)
    return examples


def materialize(directory: Path) -> dict[str, Path]:
    """Write every page-only Python example into *directory*; return the paths by file name."""
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, block in page_examples().items():
        path = directory / name
        path.write_text(block.text, encoding="utf-8")
        written[name] = path
    return written


def replace_shown(block: Block, shown: str) -> None:
    """Rewrite the page so that *block* shows *shown* (after its ``$`` lines), for update mode."""
    lines = block.page.read_text(encoding="utf-8").splitlines(keepends=True)
    first = block.line - 1
    old = block.text.splitlines(keepends=True)
    kept = len(old) - len(block.shown.splitlines(keepends=True))
    indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())] if old else ""
    new = [f"{indent}{line}" if line.strip() else line for line in shown.splitlines(keepends=True)]
    lines[first + kept : first + len(old)] = new
    block.page.write_text("".join(lines), encoding="utf-8")
