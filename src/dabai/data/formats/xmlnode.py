"""A tiny XML tree that remembers the line of every element.

ElementTree drops line numbers, but an error such as "xmax is not a number"
is only useful with the line it is on, so VOC files are parsed with a SAX
handler directly into these nodes.

Parsing goes through defusedxml with DTDs forbidden outright: a VOC file never
needs a DTD or an entity, and a "billion laughs" file (entities expanding to
gigabytes, 578 bytes costing minutes of CPU) is refused at its first line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler

from dabai.core.errors import DataError


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


class _TreeBuilder(ContentHandler):
    def __init__(self):
        super().__init__()
        self.stack: list[XmlNode] = []
        self.roots: list[XmlNode] = []

    def startElement(self, name, attrs):
        node = XmlNode(name, self._locator.getLineNumber() if self._locator else 0)
        (self.stack[-1].children if self.stack else self.roots).append(node)
        self.stack.append(node)

    def endElement(self, name):
        self.stack.pop()

    def characters(self, content):
        if self.stack:
            self.stack[-1].text += content


def parse_xml(path: Path) -> XmlNode:
    """Parse ``path`` into an XmlNode tree; DataError with the line for malformed XML or any DTD/entity."""
    from defusedxml import DefusedXmlException
    from defusedxml.sax import parseString

    data = path.read_bytes()
    if not data.strip():
        raise DataError("XML file is empty; expected an <annotation> document", path=path)
    builder = _TreeBuilder()
    try:
        parseString(data, builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except SAXParseException as exc:
        raise DataError(f"malformed XML ({exc.getMessage()}, column {exc.getColumnNumber() + 1})", path=path,
                        line=exc.getLineNumber()) from None
    except DefusedXmlException as exc:
        raise DataError(f"XML with a DTD or entity declarations is refused ({type(exc).__name__}); a VOC "
                        "annotation needs neither", path=path) from None
    if not builder.roots:
        raise DataError("no XML element found; expected an <annotation> document", path=path)
    return builder.roots[0]
