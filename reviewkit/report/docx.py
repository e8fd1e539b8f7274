"""Finish the Word file pandoc writes, so a council can edit and publish it as it stands.

pandoc leaves every table at its own guess of a width with equal columns (words then break
mid-word in narrow cells), lets a row split over a page break, and has no notion of a draft.
This module rewrites the package's XML once, after pandoc:

- each table spans the text width, columns fitted to their content (a column is never
  narrower than its longest word when the page allows it), with a fixed layout so Word and
  LibreOffice draw the same widths; a wide table steps down to a smaller type, and one with
  too many columns for a portrait page at 8 pt gets a landscape page of its own;
- header rows repeat on every page (``w:tblHeader``) and no row splits (``w:cantSplit``);
- captions keep with their table or figure, and a figure's alt text is its description
  everywhere Word looks for one;
- a draft says so at the top of every page, in every section's header, over a diagonal
  DRAFT watermark.

Only the standard library and lxml are used, and the package is read and written once.
"""

from __future__ import annotations

import base64
import os
import re
import zipfile
from collections.abc import Iterator, Mapping
from copy import deepcopy
from pathlib import Path
from typing import Any

from lxml import etree

from reviewkit.core.errors import RenderError
from reviewkit.core.tools import REFERENCE_DOCX
from reviewkit.report.docxpages import paginate, set_properties, update_fields_on_open

__all__ = ["draft_mark", "finish_docx", "text_width"]

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
PIC_NS = "http://schemas.openxmlformats.org/drawingml/2006/picture"
WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
HEADER_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
HEADER_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"
DOCUMENT = "word/document.xml"

MARK_COLOUR = "A4161A"  # the HTML draft banner's red
FONT_PT = 11.0  # table text (the reference document's Compact style)
BOLD = 1.08  # bold Arial is about this much wider than regular
CELL_PAD = 2 * 108 + 30  # twips: the Table style's left and right cell margins, a border, a little air
SHORT_TABLE = 12  # rows; a table this short is kept on one page...
SHORT_TABLE_LINES = 24  # ...when its rows run to no more lines than this (about a third of a page)
SHORT_LABEL = 12  # characters; a two-word label this short ("Reviewer A") is not wrapped
# points: a table is set at the first size its words fit; 10 pt at most, near the PDF's 9.5 pt (at the
# style's 11 pt the Word file ran to about 1.4 times the PDF's pages)
TABLE_SIZES = (10.0, 9.0, 8.0)
SPACE_AFTER_TABLE = 200  # twips (10 pt) above whatever follows a table
_PPR_BEFORE_SPACING = ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
                       "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
                       "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
                       "snapToGrid")
_SECT_BEFORE_PGSZ = ("headerReference", "footerReference", "footnotePr", "endnotePr", "type")
_RPR_BEFORE_SZ = ("rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline",
                  "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing",
                  "w", "kern", "position")

# Arial (and its metric twin Liberation Sans) advance widths, 1/1000 em, for printable ASCII.
_ARIAL = dict(zip(
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
    (278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, *([556] * 10), 278, 278,
     584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667,
     778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556,
     278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500,
     334, 260, 334, 584), strict=True))
_WIDE = {"—": 1000, "–": 556, "‘": 222, "’": 222, "“": 333, "”": 333, "…": 1000, "·": 278, "≥": 549, "≤": 549}


def _w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def _twips(text: str, bold: bool = False) -> float:
    """The printed width of ``text`` in twips (1/20 pt) at the table font size."""
    units = sum(_ARIAL.get(ch, _WIDE.get(ch, 556)) for ch in text)
    return units / 1000 * FONT_PT * 20 * (BOLD if bold else 1.0)


def text_width(sect_pr: etree._Element) -> int:
    """The width between the margins of a section, in twips."""
    size, margins = sect_pr.find(_w("pgSz")), sect_pr.find(_w("pgMar"))
    page = int(size.get(_w("w"), "11906")) if size is not None else 11906
    if margins is None:
        return page - 2 * 1440
    return page - int(margins.get(_w("left"), "1440")) - int(margins.get(_w("right"), "1440"))


def _child(parent: etree._Element, tag: str, *, after: tuple[str, ...] = (), first: bool = False) -> etree._Element:
    """``parent``'s ``tag`` child, made where the schema wants it if missing (Word rejects misplaced ones)."""
    found = parent.find(_w(tag))
    if found is not None:
        return found
    el = etree.Element(_w(tag))
    index = 0
    if not first:
        for i, sibling in enumerate(parent):
            if etree.QName(sibling).localname in after:
                index = i + 1
    parent.insert(index, el)
    return el


def _keep_with_next(p: etree._Element) -> None:
    ppr = _child(p, "pPr", first=True)
    _child(ppr, "keepNext", after=("pStyle",))


# --------------------------------------------------------------------------- tables

def _cell_text(tc: etree._Element) -> list[str]:
    return ["".join(t.text or "" for t in p.iter(_w("t"))) for p in tc.iter(_w("p"))]


def _keep_whole(text: str, header: bool) -> bool:
    """Cells read as one item, so kept on one line: "12 (60.0%)", "11.9% to 21.2%", "Reviewer A"."""
    words = text.split()
    figure = bool(words) and len(words) <= 3 and text.lstrip()[0] in "0123456789(-–"
    label = not header and len(words) == 2 and len(text.strip()) <= SHORT_LABEL
    return figure or label


def _measure(rows: list[list[tuple[list[str], bool]]]) -> tuple[list[float], list[float], list[float]]:
    """Per column, in twips at the table font size: the widest unbreakable piece with figures and
    short labels kept whole, the same with only words kept whole, and the widest line."""
    ncols = max(len(r) for r in rows)
    whole_least, word_least, most = [0.0] * ncols, [0.0] * ncols, [0.0] * ncols
    for row in rows:
        for c, (paras, head) in enumerate(row):
            for text in paras:
                line = _twips(text.strip(), head)
                widest = max((_twips(word, head) for word in text.split()), default=0.0)
                word_least[c] = max(word_least[c], widest)
                whole_least[c] = max(whole_least[c], line if _keep_whole(text, head) else widest)
                most[c] = max(most[c], line)
    return whole_least, word_least, most


def _column_widths(least: list[float], most: list[float], total: int) -> list[int]:
    """Autofit by content: each column gets at least its widest word, then a share of the rest.

    As browsers fit an HTML table: when every line fits, each column gets its widest line plus
    a share of the spare width in proportion to it; otherwise each column gets its widest word
    plus a share of what is left in proportion to how much it would wrap.
    """
    least = [x + CELL_PAD for x in least]
    most = [max(m + CELL_PAD, lo) for m, lo in zip(most, least, strict=True)]
    if sum(most) <= total:
        widths = [m * total / sum(most) for m in most]
    elif sum(least) < total:
        spare = (total - sum(least)) / (sum(most) - sum(least))
        widths = [lo + (m - lo) * spare for lo, m in zip(least, most, strict=True)]
    else:  # too many columns even at the smallest size: the widest words must break
        widths = [lo * total / sum(least) for lo in least]
    whole = [int(x) for x in widths]
    whole[-1] += total - sum(whole)
    return whole


def _lines(cells: list[list[etree._Element]], header: list[bool], widths: list[int], size: float) -> int:
    """About how many lines of text a fitted table's rows run to: each row as tall as its fullest cell."""
    total = 0
    for row, head in zip(cells, header, strict=True):
        tallest = 1
        for tc, width in zip(row, widths, strict=False):
            room = max(width - CELL_PAD, 1)
            used = sum(max(1, -(-round(_twips(text.strip(), head) * size / FONT_PT) // room)) for text in _cell_text(tc))
            tallest = max(tallest, used)
        total += tallest
    return total


def _table_size(whole_least: list[float], word_least: list[float],
                total: int) -> tuple[float, list[float], bool]:
    """The largest table font size (points) at which every column's widest piece fits, those
    pieces, and whether they fit at all.

    Figures are kept whole while any size allows it; then only words are; failing both, the
    smallest size, where the widest words must break.
    """
    for least in (whole_least, word_least):
        for size in TABLE_SIZES:
            if sum(x * size / FONT_PT + CELL_PAD for x in least) <= total:
                return size, least, True
    return TABLE_SIZES[-1], word_least, False


def _set_size(tbl: etree._Element, size: float) -> None:
    half_points = str(round(size * 2))
    for r in tbl.iter(_w("r")):
        rpr = _child(r, "rPr", first=True)
        for tag in ("sz", "szCs"):
            _child(rpr, tag, after=_RPR_BEFORE_SZ + (("sz",) if tag == "szCs" else ())).set(_w("val"), half_points)


def _fit_table(tbl: etree._Element, total: int, *, or_fail: bool = False) -> bool:
    """Fit ``tbl`` to ``total`` twips; with ``or_fail``, leave it untouched if its words cannot fit."""
    rows = tbl.findall(_w("tr"))
    if not rows:
        return True
    header = [any(h.get(_w("val"), "on") not in ("0", "false", "off") for h in tr.iter(_w("tblHeader")))
              for tr in rows]
    if not any(header):  # every kit table has a header row; one pandoc did not mark still repeats
        header[0] = True
    cells = [tr.findall(_w("tc")) for tr in rows]
    if any(tc.find(f"{_w('tcPr')}/{_w('gridSpan')}") is not None for row in cells for tc in row):
        widths = None  # merged cells: leave the grid alone, still span the text width
    else:
        whole_least, word_least, most = _measure([[(_cell_text(tc), head) for tc in row]
                                                  for row, head in zip(cells, header, strict=True)])
        size, least, fits = _table_size(whole_least, word_least, total)
        if or_fail and not fits:
            return False
        if size != FONT_PT:  # below the style's size; a wide table smaller still rather than words broken
            _set_size(tbl, size)
            least, most = [x * size / FONT_PT for x in least], [x * size / FONT_PT for x in most]
        widths = _column_widths(least, most, total)

    lines = len(rows) if widths is None else _lines(cells, header, widths, size)
    tbl_pr = _child(tbl, "tblPr", first=True)
    tbl_w = _child(tbl_pr, "tblW", after=("tblStyle", "tblpPr", "tblOverlap", "bidiVisual",
                                            "tblStyleRowBandSize", "tblStyleColBandSize"))
    tbl_w.set(_w("type"), "dxa")
    tbl_w.set(_w("w"), str(total))
    if widths is not None:
        layout = _child(tbl_pr, "tblLayout", after=("tblStyle", "tblpPr", "tblOverlap", "bidiVisual",
                                                    "tblStyleRowBandSize", "tblStyleColBandSize", "tblW", "jc",
                                                    "tblCellSpacing", "tblInd", "tblBorders", "shd"))
        layout.set(_w("type"), "fixed")
        grid = tbl.find(_w("tblGrid"))
        if grid is None:
            grid = etree.Element(_w("tblGrid"))
            tbl_pr.addnext(grid)
        for col in list(grid):
            grid.remove(col)
        for width in widths:
            etree.SubElement(grid, _w("gridCol")).set(_w("w"), str(width))
        for row in cells:
            for tc, width in zip(row, widths, strict=False):
                tc_pr = _child(tc, "tcPr", first=True)
                tc_w = _child(tc_pr, "tcW", after=("cnfStyle",))
                tc_w.set(_w("type"), "dxa")
                tc_w.set(_w("w"), str(width))

    short = len(rows) <= SHORT_TABLE and lines <= SHORT_TABLE_LINES  # a tall one splits between rows
    for p in tbl.iter(_w("p")):  # rows as tight as the PDF's: the cell margins are the only space in a row
        spacing = _child(_child(p, "pPr", first=True), "spacing", after=_PPR_BEFORE_SPACING)
        spacing.set(_w("before"), "0")
        spacing.set(_w("after"), "0")
    for i, (tr, is_head) in enumerate(zip(rows, header, strict=True)):
        tr_pr = _child(tr, "trPr", after=("tblPrEx",))
        _child(tr_pr, "cantSplit")
        if is_head:
            _child(tr_pr, "tblHeader").set(_w("val"), "on")
        # A short table stays on one page: each row keeps with the next. A longer one may split, but
        # never leaving its header and one row, or its last row, alone on a page.
        first_body = next((j for j, head in enumerate(header) if not head), len(rows))
        if i < len(rows) - 1 and (short or i <= first_body or i == len(rows) - 2):
            for p in tr.iter(_w("p")):
                _keep_with_next(p)
    return True


def _landscape(sect_pr: etree._Element) -> etree._Element:
    """A copy of a section's properties, turned to landscape."""
    wide = deepcopy(sect_pr)
    size = _child(wide, "pgSz", after=_SECT_BEFORE_PGSZ)
    width, height = size.get(_w("w"), "11906"), size.get(_w("h"), "16838")
    if int(width) < int(height):
        size.set(_w("w"), height)
        size.set(_w("h"), width)
    size.set(_w("orient"), "landscape")
    return wide


def _own_section(tbl: etree._Element, before: etree._Element, wide: etree._Element) -> None:
    """Give ``tbl`` (with its caption and the headings just above) a landscape section of its own."""
    start = tbl
    while True:
        prev = start.getprevious()
        if prev is None or not (prev.tag in (_w("bookmarkStart"), _w("bookmarkEnd"))
                                or (prev.tag == _w("p") and (_style_name(prev) == "TableCaption"
                                                             or _style_name(prev).startswith("Heading")))):
            break
        start = prev
    def ending(props: etree._Element) -> etree._Element:
        p = etree.Element(_w("p"))  # a section ends with the paragraph that carries its properties
        etree.SubElement(p, _w("pPr")).append(props)
        return p

    prev = start.getprevious()
    if prev is not None and prev.find(f"{_w('pPr')}/{_w('sectPr')}") is None:  # else a section ends there already
        start.addprevious(ending(deepcopy(before)))
    tbl.addnext(ending(wide))


def _sections(body: etree._Element) -> Iterator[tuple[list[etree._Element], etree._Element]]:
    """Each section's top-level tables with the section properties that govern them."""
    tables: list[etree._Element] = []
    for el in body:
        tag = etree.QName(el).localname
        if tag == "tbl":
            tables.append(el)
        elif tag == "sectPr" or (tag == "p" and el.find(f"{_w('pPr')}/{_w('sectPr')}") is not None):
            yield tables, el if tag == "sectPr" else el.find(f"{_w('pPr')}/{_w('sectPr')}")
            tables = []
    if tables:  # no closing section properties: Word's default letter page
        yield tables, etree.Element(_w("sectPr"))


# --------------------------------------------------------------------------- captions and figures

def _space_after_tables(body: etree._Element) -> None:
    """Room between a table and what follows (Word gives a table no space after it), headings aside."""
    for tbl in body.iter(_w("tbl")):
        nxt = _next_block(tbl)
        if nxt is None or nxt.tag != _w("p") or _style_name(nxt).startswith("Heading"):
            continue
        spacing = _child(_child(nxt, "pPr", first=True), "spacing", after=_PPR_BEFORE_SPACING)
        if spacing.get(_w("before")) is None:
            spacing.set(_w("before"), str(SPACE_AFTER_TABLE))


def _style_name(p: etree._Element | None) -> str:
    style = p.find(f"{_w('pPr')}/{_w('pStyle')}") if p is not None else None
    return style.get(_w("val"), "") if style is not None else ""


def _next_block(el: etree._Element) -> etree._Element | None:
    """The paragraph or table after ``el``, past bookmarks."""
    nxt = el.getnext()
    while nxt is not None and nxt.tag in (_w("bookmarkStart"), _w("bookmarkEnd")):
        nxt = nxt.getnext()
    return nxt


def _keep_captions(body: etree._Element) -> None:
    """A table caption keeps with its table, a figure with its caption.

    A chart does not keep with the table of its figures that follows: that would leave half of
    each page of the per-question charts empty.
    """
    for p in body.iter(_w("p")):
        name = _style_name(p)
        if name == "TableCaption" or (p.find(f".//{{{WP_NS}}}inline") is not None
                                      or p.find(f".//{{{WP_NS}}}anchor") is not None):
            _keep_with_next(p)
    for doc_pr in body.iter(f"{{{WP_NS}}}docPr"):  # the picture's own description is a file name otherwise
        alt = doc_pr.get("descr")
        graphic = doc_pr.getparent()
        if alt and graphic is not None:
            for nv in graphic.iter(f"{{{PIC_NS}}}cNvPr"):
                nv.set("descr", alt)


# --------------------------------------------------------------------------- draft mark

def draft_mark(context: Mapping[str, Any]) -> str | None:
    """What a draft says at the top of every page, in the HTML draft's words; None when final.

    Reads the render context: ``draft``, ``incomplete`` (data still missing) and ``withheld``
    (identifiers withheld on the fly).
    """
    if not context.get("draft"):
        return None
    parts = ["DRAFT"]
    if context.get("incomplete"):
        parts.append("DATA INCOMPLETE")
    parts.append("NOT FOR PUBLICATION" + (" (identifiers withheld)" if context.get("withheld") else ""))
    return " — ".join(parts)


# Word's own watermark markup (Design > Watermark): a WordArt text path behind the page,
# drawn from the header so that it repeats on every page; LibreOffice reads it as a watermark.
_WATERMARK = """<w:r xmlns:w="{w}" xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"
 xmlns:w10="urn:schemas-microsoft-com:office:word"><w:rPr><w:noProof/></w:rPr><w:pict>
<v:shapetype id="_x0000_t136" coordsize="21600,21600" o:spt="136" adj="10800" path="m@7,l@8,m@5,21600l@6,21600e">
<v:formulas><v:f eqn="sum #0 0 10800"/><v:f eqn="prod #0 2 1"/><v:f eqn="sum 21600 0 @1"/><v:f eqn="sum 0 0 @2"/>
<v:f eqn="sum 21600 0 @3"/><v:f eqn="if @0 @3 0"/><v:f eqn="if @0 21600 @1"/><v:f eqn="if @0 0 @2"/>
<v:f eqn="if @0 @4 21600"/><v:f eqn="mid @5 @6"/><v:f eqn="mid @8 @5"/><v:f eqn="mid @7 @8"/><v:f eqn="mid @6 @7"/>
<v:f eqn="sum @6 0 @5"/></v:formulas>
<v:path textpathok="t" o:connecttype="custom" o:connectlocs="@9,0;@10,10800;@11,21600;@12,10800"
 o:connectangles="270,180,90,0"/><v:textpath on="t" fitshape="t"/>
<v:handles><v:h position="#0,bottomRight" xrange="6629,14971"/></v:handles><o:lock v:ext="edit" text="t" shapetype="t"/>
</v:shapetype>
<v:shape id="PowerPlusWaterMarkObject{n}" o:spid="_x0000_s{spid}" type="#_x0000_t136" style="{style}"
 o:allowincell="f" fillcolor="#{colour}" stroked="f"><v:fill opacity=".15"/>
<v:textpath style="font-family:&quot;Arial&quot;;font-size:1pt" string="DRAFT"/>
<w10:wrap anchorx="margin" anchory="margin"/></v:shape></w:pict></w:r>"""
_WATERMARK_STYLE = ("position:absolute;margin-left:0;margin-top:0;width:460pt;height:115pt;rotation:315;"
                    "z-index:-251657216;mso-position-horizontal:center;mso-position-horizontal-relative:margin;"
                    "mso-position-vertical:center;mso-position-vertical-relative:margin")
_PLAIN = etree.XMLParser(remove_blank_text=True)


def _mark_paragraph(mark: str, n: int) -> etree._Element:
    """The header line that says what the draft is, and a diagonal DRAFT watermark behind the page."""
    p = etree.Element(_w("p"))
    ppr = etree.SubElement(p, _w("pPr"))
    etree.SubElement(ppr, _w("jc")).set(_w("val"), "center")
    r = etree.SubElement(p, _w("r"))
    rpr = etree.SubElement(r, _w("rPr"))
    etree.SubElement(rpr, _w("b"))
    etree.SubElement(rpr, _w("color")).set(_w("val"), MARK_COLOUR)
    etree.SubElement(rpr, _w("sz")).set(_w("val"), "20")
    t = etree.SubElement(r, _w("t"))
    t.text = mark
    p.append(etree.fromstring(_WATERMARK.format(w=W_NS, n=n, spid=2048 + n, colour=MARK_COLOUR,
                                                style=_WATERMARK_STYLE), _PLAIN))
    return p


def _mark_pages(parts: dict[str, bytes], doc: etree._Element, mark: str) -> None:
    """Put ``mark`` at the top of every page: in each section's headers, new or existing."""
    rels_name = "word/_rels/document.xml.rels"
    rels = etree.fromstring(parts[rels_name])
    types = etree.fromstring(parts["[Content_Types].xml"])
    targets = {r.get("Id"): r.get("Target") for r in rels}
    settings = parts.get("word/settings.xml", b"")
    kinds = ["default"] + (["even"] if b"evenAndOddHeaders" in settings else [])
    marked: set[str] = set()
    made = 0
    for sect_pr in doc.iter(_w("sectPr")):
        wanted = kinds + (["first"] if sect_pr.find(_w("titlePg")) is not None else [])
        have = {ref.get(_w("type"), "default"): ref.get(f"{{{R_NS}}}id") for ref in sect_pr.findall(_w("headerReference"))}
        for kind in wanted:
            rid = have.get(kind)
            if rid is not None and targets.get(rid):
                name = "word/" + targets[rid].lstrip("/").removeprefix("word/")
                if name in parts and name not in marked:
                    header = etree.fromstring(parts[name])
                    header.insert(0, _mark_paragraph(mark, len(marked) + made + 1))
                    parts[name] = etree.tostring(header, xml_declaration=True, encoding="UTF-8", standalone=True)
                    marked.add(name)
                continue
            made += 1
            target = f"header-draft{made}.xml"
            rid = f"rIdDraftHeader{made}"
            header = etree.Element(_w("hdr"), nsmap={"w": W_NS, "r": R_NS})
            header.append(_mark_paragraph(mark, len(marked) + made))
            parts["word/" + target] = etree.tostring(header, xml_declaration=True, encoding="UTF-8", standalone=True)
            etree.SubElement(rels, f"{{{PKG_REL_NS}}}Relationship", Id=rid, Type=HEADER_REL, Target=target)
            etree.SubElement(types, f"{{{CT_NS}}}Override", PartName=f"/word/{target}", ContentType=HEADER_CT)
            ref = etree.Element(_w("headerReference"))
            ref.set(_w("type"), kind)
            ref.set(f"{{{R_NS}}}id", rid)
            sect_pr.insert(0, ref)  # header and footer references come first in a section's properties
    parts[rels_name] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)


# --------------------------------------------------------------------------- the package

def finish_docx(path: Path, mark: str | None = None, context: Mapping[str, Any] | None = None) -> Path:
    """Fit tables, keep rows and captions whole, page as the PDF (``docxpages``) and, for a draft,
    mark every page; in place."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            parts = {info.filename: z.read(info) for info in infos}
        doc = etree.fromstring(parts[DOCUMENT])
    except (OSError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise RenderError(f"the Word document pandoc wrote could not be read ({type(exc).__name__})") from None
    body = doc.find(_w("body"))
    if body is None:
        raise RenderError("the Word document pandoc wrote has no body")
    for tables, sect_pr in list(_sections(body)):
        width = text_width(sect_pr)
        for tbl in tables:
            if not _fit_table(tbl, width, or_fail=True):  # too many columns for a portrait page
                wide = _landscape(sect_pr)
                _fit_table(tbl, text_width(wide))
                _own_section(tbl, sect_pr, wide)
    _keep_captions(body)
    _space_after_tables(body)
    if paginate(doc) and "word/settings.xml" in parts:
        parts["word/settings.xml"] = update_fields_on_open(parts["word/settings.xml"])
    if context and "docProps/core.xml" in parts:
        parts["docProps/core.xml"] = set_properties(parts["docProps/core.xml"], context)
    if mark:
        _mark_pages(parts, doc, mark)
    parts[DOCUMENT] = etree.tostring(doc, xml_declaration=True, encoding="UTF-8", standalone=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with zipfile.ZipFile(partial, "w") as z:
        for info in infos:
            z.writestr(info, parts.pop(info.filename))
        for name, data in parts.items():  # new parts (draft headers)
            z.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    partial.replace(path)
    return path


# --------------------------------------------------------------------------- Word

def _docx_html(body: str) -> str:
    """The HTML as pandoc reads best: landmarks as plain divs.

    pandoc reads only what is inside <main> when there is one, and skips header, nav and footer.
    """
    body = re.sub(r'<a class="skip-link"[^>]*>.*?</a>', "", body, flags=re.DOTALL)
    # Word's columns are fitted to their figures (``finish_docx``): no need to bind a count to its share.
    body = body.replace("&nbsp;(", " (").replace("\u00a0(", " (")
    body = re.sub(r"<(/?)(header|nav|footer|main)\b", lambda m: f"<{m.group(1)}div", body)
    body = re.sub(r"<style\b.*?</style>", "", body, flags=re.DOTALL)
    # The document title becomes Word's Title paragraph, so the cover's own h1 would repeat it;
    # the cover's subheading is a bold line, not a Heading 1 (which starts a new page in Word).
    title = re.search(r'<h1 id="title">(.*?)</h1>', body, flags=re.DOTALL)
    if title:
        body = re.sub(r"<title>.*?</title>", f"<title>{title.group(1)}</title>", body, count=1, flags=re.DOTALL)
        body = body.replace(title.group(0), "", 1)
    # The block printed whole (the last short section, the signatories, the date) as a bookmark
    # pandoc keeps, so that the Word file can keep it on one page too (docxpages).
    body = body.replace('<div class="signature-block">', '<div class="signature-block" id="signature-block">', 1)
    body = re.sub(r'<h2 class="cover-team-heading"[^>]*>(.*?)</h2>', r"<p><strong>\1</strong></p>", body,
                  flags=re.DOTALL)
    # The headings carry their own numbers, so the contents list is plain lines in Word, not a
    # numbered list ("1. 1. Introduction").
    toc = re.search(r'(<h2 id="toc-heading">.*?</h2>\s*)<ol>(.*?)</ol>', body, flags=re.DOTALL)
    if toc:
        lines = re.sub(r"<li>(.*?)</li>", r"<p>\1</p>", toc.group(2), flags=re.DOTALL)
        body = body.replace(toc.group(0), toc.group(1) + lines, 1)
    return body


_DATA_PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=\s]+)"')
_MEDIA = re.compile(r"<img\b[^>]*>")


def to_docx(body: str, out: Path, work: Path, context: dict[str, Any] | None = None) -> Path:
    """Word through pandoc (pypandoc-binary) with the kit's reference document, then finished.

    Charts go to pandoc as PNG files rather than data URIs (pandoc reads a 1 MB page of
    base64 several times slower), and every other image is dropped, so the only files pandoc
    reads are the page and the images written here. ``finish_docx`` then fits the tables to
    the page and, for a draft (as the render ``context`` says), marks every page.
    """
    import pypandoc  # start-up: pandoc runs only for a Word file

    media = work / "media"
    media.mkdir(exist_ok=True)
    count = 0

    def extract(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        (media / f"figure-{count}.png").write_bytes(base64.b64decode(m.group(1)))
        return f'src="media/figure-{count}.png"'

    page = _DATA_PNG.sub(extract, _docx_html(body))
    page = _MEDIA.sub(lambda m: m.group(0) if re.search(r'src="media/figure-\d+\.png"', m.group(0)) else "", page)
    src = work / "report-for-word.html"
    src.write_text(page, encoding="utf-8")
    args = ["--shift-heading-level-by=-1", f"--resource-path={work}"]
    if REFERENCE_DOCX.exists():
        args += ["--reference-doc", str(REFERENCE_DOCX)]
    try:
        pypandoc.convert_file(str(src), "docx", format="html", outputfile=str(out), extra_args=args,
                              cworkdir=str(work))
    except (RuntimeError, OSError) as exc:
        raise RenderError(f"pandoc could not write the Word document ({type(exc).__name__})") from None
    return finish_docx(out, draft_mark(context or {}), context)


