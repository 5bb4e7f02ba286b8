"""A tiny XML tree that remembers the line of every element.

ElementTree drops line numbers, but an error such as "xmax is not a number"
is only useful with the line it is on, so VOC files are parsed with expat
directly into these nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from dabai.errors import DataError


@dataclass
class XmlNode:
    tag: str
    line: int
    text: str = ""
    children: list[XmlNode] = field(default_factory=list)

    def find(self, tag: str) -> XmlNode | None:
        return next((c for c in self.children if c.tag == tag), None)

    def find_all(self, tag: str) -> list[XmlNode]:
        return [c for c in self.children if c.tag == tag]

    def text_of(self, tag: str, default: str | None = None) -> str | None:
        node = self.find(tag)
        return node.text.strip() if node is not None else default


def parse_xml(path: Path) -> XmlNode:
    """Parse ``path`` into an XmlNode tree; DataError with the line for malformed XML."""
    data = path.read_bytes()
    if not data.strip():
        raise DataError("XML file is empty; expected an <annotation> document", path=path)
    parser = expat.ParserCreate()
    stack: list[XmlNode] = []
    roots: list[XmlNode] = []

    def start(tag, _attrs):
        node = XmlNode(tag, parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_tag):
        stack.pop()

    def text(chunk):
        if stack:
            stack[-1].text += chunk

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        reason = expat.ErrorString(exc.code)
        raise DataError(f"malformed XML ({reason}, column {exc.offset + 1})", path=path, line=exc.lineno) from None
    return roots[0]
