"""The Word report's pages as the PDF's: a Contents field, sections that follow on, its properties.

pandoc writes the HTML's Contents as plain lines, starts every top-level heading on a new page
(the reference document's Heading 1) and leaves the author empty. ``finish_docx`` calls
``paginate`` once on the document's XML to:

- make the Contents lines a Word table-of-contents field (``TOC \\o "1-1" \\h``) whose shown
  result is those lines, marked to be updated: Word fills in the page numbers when the file
  opens, LibreOffice with Tools > Update > Update All;
- start a new page only where the printed report does: the Contents and each appendix;
- keep headings with what follows (a heading, its few lines of lead-in and its first table's
  caption), a short note after a table with the table, and the signature block (the last short
  section, the signatories and the date) on one page, as the PDF does; and let nothing keep with the heading of a new page (a paragraph or table
  row kept with it would be pulled onto that page, leaving the page before part empty);
- draw the charts at the size the PDF prints them (pandoc's are about a quarter larger);
- set the file's title and author (the review programme, never a person) in its properties.

In: the document's XML, its settings and core properties, the render context. Out: the same,
changed in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

__all__ = ["paginate", "set_properties", "update_fields_on_open"]

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DC_NS = "http://purl.org/dc/elements/1.1/"
TOC_INSTRUCTION = ' TOC \\o "1-1" \\h \\z \\u '
LEAD_IN = 1200  # characters: the most text between a heading and its first table kept with both
LEAD_IN_PARAGRAPHS = 3
NOTE = 240  # characters: a note this short after a table (two lines at most) goes with the table
SIGNATURE_BLOCK = "signature-block"  # the bookmark (from the HTML's id) around the block printed whole
NEW_PAGE_HEADINGS = ("Contents", "Appendix")  # a top-level heading starting with one of these starts a page
CHART_SCALE = 0.78  # pandoc's chart size to the printed report's (the PDF's charts measured on the sample)
WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"


def _w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def _text(p: etree._Element) -> str:
    return "".join(t.text or "" for t in p.iter(_w("t"))).strip()


def _style(p: etree._Element) -> str:
    ps = p.find(f"{_w('pPr')}/{_w('pStyle')}")
    return ps.get(_w("val"), "") if ps is not None else ""


def _field_run(kind: str, instruction: str = "") -> etree._Element:
    r = etree.Element(_w("r"))
    if instruction:
        it = etree.SubElement(r, _w("instrText"))
        it.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        it.text = instruction
    else:
        fc = etree.SubElement(r, _w("fldChar"))
        fc.set(_w("fldCharType"), kind)
        if kind == "begin":
            fc.set(_w("dirty"), "true")
    return r


def _set_style(p: etree._Element, style: str) -> None:
    ppr = p.find(_w("pPr"))
    if ppr is None:
        ppr = etree.Element(_w("pPr"))
        p.insert(0, ppr)
    ps = ppr.find(_w("pStyle"))
    if ps is None:
        ps = etree.Element(_w("pStyle"))
        ppr.insert(0, ps)
    ps.set(_w("val"), style)


def _contents_field(body: etree._Element) -> bool:
    """The lines after the 'Contents' heading as a table-of-contents field; False if there is none."""
    children = list(body)
    head = next((i for i, el in enumerate(children)
                 if el.tag == _w("p") and _style(el) == "Heading1" and _text(el) == "Contents"), None)
    if head is None:
        return False
    entries = []
    for el in children[head + 1:]:
        if el.tag != _w("p") or _style(el).startswith("Heading") or el.find(f".//{_w('hyperlink')}") is None:
            break
        entries.append(el)
    if not entries:
        return False
    sdt = etree.Element(_w("sdt"))
    part = etree.SubElement(etree.SubElement(etree.SubElement(sdt, _w("sdtPr")), _w("docPartObj")),
                            _w("docPartGallery"))
    part.set(_w("val"), "Table of Contents")
    etree.SubElement(part.getparent(), _w("docPartUnique"))
    content = etree.SubElement(sdt, _w("sdtContent"))
    heading = children[head]
    body.insert(body.index(heading), sdt)
    content.append(heading)
    for p in entries:
        _set_style(p, "TOC1")
        content.append(p)
    first, last = entries[0], entries[-1]
    at = 1 if first.find(_w("pPr")) is not None else 0
    for offset, run in enumerate((_field_run("begin"), _field_run("", TOC_INSTRUCTION), _field_run("separate"))):
        first.insert(at + offset, run)
    last.append(_field_run("end"))
    return True


def _page_breaks(body: etree._Element) -> None:
    """Heading 1 starts a new page only for the Contents and the appendices, as in the PDF."""
    for p in body.iter(_w("p")):
        if _style(p) != "Heading1":
            continue
        ppr = p.find(_w("pPr"))
        br = ppr.find(_w("pageBreakBefore"))
        if br is None:
            br = etree.Element(_w("pageBreakBefore"))
            ps = ppr.find(_w("pStyle"))
            ppr.insert(ppr.index(ps) + 1 if ps is not None else 0, br)
        br.set(_w("val"), "1" if _text(p).startswith(NEW_PAGE_HEADINGS) else "0")


def _blocks(body: etree._Element) -> list[etree._Element]:
    """The body's paragraphs and tables, in order (bookmarks and the like left out)."""
    return [el for el in body if el.tag in (_w("p"), _w("tbl"))]


def _keep(p: etree._Element, on: bool) -> None:
    """Set or clear a paragraph's own keep-with-next (its style's is overridden only when set here)."""
    ppr = p.find(_w("pPr"))
    if ppr is None:
        if not on:
            return
        ppr = etree.Element(_w("pPr"))
        p.insert(0, ppr)
    keep = ppr.find(_w("keepNext"))
    if keep is None:
        if not on:
            return
        keep = etree.Element(_w("keepNext"))
        ps = ppr.find(_w("pStyle"))
        ppr.insert(ppr.index(ps) + 1 if ps is not None else 0, keep)
    if on:
        keep.attrib.pop(_w("val"), None)
    else:
        ppr.remove(keep)


def _signature_block(body: etree._Element) -> None:
    """The paragraphs inside the signature block's bookmark each keep with the next, the last
    (the report's date) aside: the block moves to a new page whole, never the date alone."""
    start = next((b for b in body.iter(_w("bookmarkStart")) if b.get(_w("name")) == SIGNATURE_BLOCK), None)
    if start is None or start.getparent() is not body:
        return
    mark = start.get(_w("id"))
    inside: list[etree._Element] = []
    for el in start.itersiblings():
        if el.tag == _w("bookmarkEnd") and el.get(_w("id")) == mark:
            break
        if el.tag == _w("p") and _text(el):
            inside.append(el)
    for p in inside[:-1]:
        _keep(p, True)
        if not _style(p).startswith("Heading"):  # a paragraph of the block is not split either
            ppr = p.find(_w("pPr"))
            if ppr.find(_w("keepLines")) is None:
                ppr.insert(ppr.index(ppr.find(_w("keepNext"))) + 1, etree.Element(_w("keepLines")))


def _heading(el: etree._Element) -> bool:
    return el.tag == _w("p") and _style(el).startswith("Heading")


def _table_row_keeps(tbl: etree._Element) -> None:
    """A table's last row keeps with what follows (its other rows keep together already when short)."""
    rows = tbl.findall(_w("tr"))
    for p in (rows[-1].iter(_w("p")) if rows else ()):
        _keep(p, True)


def _sections_whole(body: etree._Element) -> None:
    """Headings kept with what follows, as the PDF keeps them: a heading, the few lines leading
    in to its first table and that table's caption start on one page; and a short note that ends
    a section after a table stays with the table, never on a page of its own."""
    blocks = _blocks(body)
    for i, el in enumerate(blocks):
        if not _heading(el):
            continue
        lead: list[etree._Element] = []
        for nxt in blocks[i + 1:]:
            if nxt.tag != _w("p") or _heading(nxt):
                break
            if _style(nxt) == "TableCaption":
                if sum(len(_text(p)) for p in lead) <= LEAD_IN:
                    for p in lead:
                        _keep(p, True)
                break
            if nxt.find(f".//{_w('drawing')}") is not None or len(lead) == LEAD_IN_PARAGRAPHS:
                break  # a chart, or more than a few lines: the heading keeps with its first line only
            lead.append(nxt)
    for before, note, after in zip(blocks, blocks[1:], [*blocks[2:], None]):
        if (before.tag == _w("tbl") and note.tag == _w("p") and (after is None or _heading(after))
                and 0 < len(_text(note)) <= NOTE):
            _table_row_keeps(before)


def _nothing_keeps_with_a_new_page(body: etree._Element) -> None:
    """The block before a heading that starts a page does not keep with it: whatever keeps with
    such a heading is moved onto its page, leaving the page before part empty."""
    blocks = _blocks(body)
    for before, el in zip(blocks, blocks[1:]):
        br = el.find(f"{_w('pPr')}/{_w('pageBreakBefore')}") if el.tag == _w("p") else None
        if br is None or br.get(_w("val"), "1") in ("0", "false", "off"):
            continue
        if before.tag == _w("p"):
            _keep(before, False)
        else:  # a table's last row
            rows = before.findall(_w("tr"))
            for p in (rows[-1].iter(_w("p")) if rows else ()):
                _keep(p, False)


def _chart_sizes(body: etree._Element) -> None:
    """Each picture drawn at ``CHART_SCALE`` of the size pandoc gave it, its shape kept."""
    for drawing in body.iter(_w("drawing")):
        for ext in (*drawing.iter(f"{{{WP_NS}}}extent"), *drawing.iter(f"{{{A_NS}}}ext")):
            for axis in ("cx", "cy"):
                if ext.get(axis, "").isdigit():
                    ext.set(axis, str(round(int(ext.get(axis)) * CHART_SCALE)))


def paginate(doc: etree._Element) -> bool:
    """The Contents as a field, page breaks as the PDF's, charts at the PDF's size; True when
    there is a field to update."""
    body = doc.find(_w("body"))
    if body is None:
        return False
    _page_breaks(body)
    _sections_whole(body)
    _signature_block(body)
    _nothing_keeps_with_a_new_page(body)
    _chart_sizes(body)
    return _contents_field(body)


def update_fields_on_open(settings: bytes) -> bytes:
    """settings.xml asking Word to update the fields (the Contents' page numbers) when the file opens."""
    root = etree.fromstring(settings)
    if root.find(_w("updateFields")) is None:
        el = etree.Element(_w("updateFields"))
        el.set(_w("val"), "true")
        # After the view and zoom settings, where the schema has it (Word rejects misplaced ones).
        known = ("writeProtection", "view", "zoom", "removePersonalInformation", "removeDateAndTime",
                 "doNotDisplayPageBoundaries", "displayBackgroundShape", "printPostScriptOverText",
                 "printFractionalCharacterWidth", "printFormsData", "embedTrueTypeFonts",
                 "embedSystemFonts", "saveSubsetFonts", "saveFormsData", "mirrorMargins",
                 "alignBordersAndEdges", "bordersDoNotSurroundHeader", "bordersDoNotSurroundFooter",
                 "gutterAtTop", "hideSpellingErrors", "hideGrammaticalErrors", "activeWritingStyle",
                 "proofState", "formsDesign", "attachedTemplate", "linkStyles", "stylePaneFormatFilter",
                 "stylePaneSortMethod", "documentType", "mailMerge", "revisionView", "trackRevisions",
                 "doNotTrackMoves", "doNotTrackFormatting", "documentProtection", "autoFormatOverride",
                 "styleLockTheme", "styleLockQFSet", "defaultTabStop", "autoHyphenation",
                 "consecutiveHyphenLimit", "hyphenationZone", "doNotHyphenateCaps", "showEnvelope",
                 "summaryLength", "clickAndTypeStyle", "defaultTableStyle", "evenAndOddHeaders",
                 "bookFoldRevPrinting", "bookFoldPrinting", "bookFoldPrintingSheets",
                 "drawingGridHorizontalSpacing", "drawingGridVerticalSpacing",
                 "displayHorizontalDrawingGridEvery", "displayVerticalDrawingGridEvery",
                 "doNotUseMarginsForDrawingGridOrigin", "drawingGridHorizontalOrigin",
                 "drawingGridVerticalOrigin", "doNotShadeFormData", "noPunctuationKerning",
                 "characterSpacingControl", "printTwoOnOne", "strictFirstAndLastChars",
                 "noLineBreaksAfter", "noLineBreaksBefore", "savePreviewPicture", "doNotValidateAgainstSchema",
                 "saveInvalidXml", "ignoreMixedContent", "alwaysShowPlaceholderText", "doNotDemarcateInvalidXml",
                 "saveXmlDataOnly", "useXSLTWhenSaving", "saveThroughXslt", "showXMLTags",
                 "alwaysMergeEmptyNamespace")
        index = 0
        for i, child in enumerate(root):
            if etree.QName(child).localname in known:
                index = i + 1
        root.insert(index, el)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def set_properties(core: bytes, context: Mapping[str, Any]) -> bytes:
    """core.xml with the report's title and its author: the review programme (never a person)."""
    root = etree.fromstring(core)
    for tag, value in (("title", context.get("title", "")), ("creator", context.get("programme", ""))):
        if not value:
            continue
        el = root.find(f"{{{DC_NS}}}{tag}")
        if el is None:
            el = etree.SubElement(root, f"{{{DC_NS}}}{tag}")
        el.text = str(value)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))
