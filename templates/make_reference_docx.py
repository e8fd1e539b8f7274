"""Build templates/reference.docx: pandoc's default reference document, styled plainly.

Run it after changing the house style (``.venv/bin/python templates/make_reference_docx.py``);
the result is committed so that rendering never depends on this script. The style is what a
council communications team expects of a published report: Arial throughout, dark navy
headings, British English, A4 with 2 cm margins, page numbers in the footer, tables with thin
rules and a tinted header row, and captions that read as captions.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import docx
import pypandoc
from docx.enum.section import WD_SECTION
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

OUT = Path(__file__).resolve().parent / "reference.docx"
FONT = "Arial"
NAVY = RGBColor(0x14, 0x28, 0x4B)
INK = RGBColor(0x1B, 0x1B, 0x1B)
MUTED = RGBColor(0x4A, 0x4A, 0x4A)
LINK = RGBColor(0x0B, 0x4F, 0x8A)
RULE = "C9D1DE"
TINT = "EEF2F8"
HEADINGS = {1: 16, 2: 13, 3: 11.5, 4: 11, 5: 11, 6: 11, 7: 11, 8: 11, 9: 11}


def pandoc_default() -> bytes:
    """pandoc's own reference.docx, from the pandoc that pypandoc-binary ships."""
    done = subprocess.run([pypandoc.get_pandoc_path(), "--print-default-data-file", "reference.docx"],
                          capture_output=True, check=True)
    return done.stdout


def _fonts(rpr) -> None:  # type: ignore[no-untyped-def]
    """Arial for every script, replacing theme fonts (which would otherwise win)."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _style(doc, name: str, *, size: float | None = None, bold: bool | None = None,  # type: ignore[no-untyped-def]
           italic: bool | None = None, colour: RGBColor | None = None, before: float | None = None,
           after: float | None = None, keep_next: bool | None = None) -> None:
    style = next(s for s in doc.styles if s.name == name)  # exact names: pandoc's are capitalised
    font = style.font
    font.name = FONT
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if italic is not None:
        font.italic = italic
    if colour is not None:
        font.color.rgb = colour
    _fonts(style.element.get_or_add_rPr())
    fmt = getattr(style, "paragraph_format", None)
    if fmt is not None:
        if before is not None:
            fmt.space_before = Pt(before)
        if after is not None:
            fmt.space_after = Pt(after)
        if keep_next is not None:
            fmt.keep_with_next = keep_next


def _borders(parent, tag: str, colour: str = RULE) -> None:  # type: ignore[no-untyped-def]
    borders = OxmlElement(tag)
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), colour)
        borders.append(el)
    parent.append(borders)


def _table_style(doc) -> None:  # type: ignore[no-untyped-def]
    """pandoc's 'Table' style with thin rules, cell padding and a tinted, bold header row."""
    style = doc.styles["Table"].element
    tblpr = style.find(qn("w:tblPr"))
    for old in tblpr.findall(qn("w:tblBorders")):
        tblpr.remove(old)
    _borders(tblpr, "w:tblBorders")
    margins = tblpr.find(qn("w:tblCellMar"))
    for side in ("top", "bottom"):
        el = margins.find(qn(f"w:{side}"))
        el.set(qn("w:w"), "20")  # 1 pt above and below a row's text, as tight as the PDF's rows
    for old in style.findall(qn("w:tblStylePr")):
        style.remove(old)
    first = OxmlElement("w:tblStylePr")
    first.set(qn("w:type"), "firstRow")
    rpr = OxmlElement("w:rPr")
    rpr.append(OxmlElement("w:b"))
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), "14284B")
    rpr.append(colour)
    first.append(rpr)
    tcpr = OxmlElement("w:tcPr")
    shade = OxmlElement("w:shd")
    shade.set(qn("w:val"), "clear")
    shade.set(qn("w:color"), "auto")
    shade.set(qn("w:fill"), TINT)
    tcpr.append(shade)
    first.append(tcpr)
    style.append(first)


def _contents_style(doc) -> None:  # type: ignore[no-untyped-def]
    """Word's 'toc 1' style for the Contents lines: one short line each, the page number at the
    right margin after a dotted leader (without it each line took a paragraph's spacing, and the
    Contents most of a page)."""
    styles = doc.styles.element
    for old in styles.findall(qn("w:style")):
        if old.get(qn("w:styleId")) == "TOC1":
            styles.remove(old)
    style = OxmlElement("w:style")
    style.set(qn("w:type"), "paragraph")
    style.set(qn("w:styleId"), "TOC1")
    for tag, val in (("w:name", "toc 1"), ("w:basedOn", "Normal"), ("w:next", "Normal"), ("w:uiPriority", "39")):
        el = OxmlElement(tag)
        el.set(qn("w:val"), val)
        style.append(el)
    style.append(OxmlElement("w:unhideWhenUsed"))
    ppr = OxmlElement("w:pPr")
    tabs = OxmlElement("w:tabs")
    tab = OxmlElement("w:tab")
    tab.set(qn("w:val"), "right")
    tab.set(qn("w:leader"), "dot")
    tab.set(qn("w:pos"), str(round(Mm(170).twips)))  # the A4 text width: 210 mm less two 20 mm margins
    tabs.append(tab)
    ppr.append(tabs)
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:before"), "0")
    spacing.set(qn("w:after"), "60")
    ppr.append(spacing)
    style.append(ppr)
    rpr = OxmlElement("w:rPr")
    _fonts(rpr)
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "22")
    rpr.append(size)
    style.append(rpr)
    styles.append(style)


def _defaults(doc) -> None:  # type: ignore[no-untyped-def]
    """Document defaults: Arial 11 pt, British English."""
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(rpr)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-GB")
    lang.set(qn("w:eastAsia"), "en-GB")


def _theme_fonts(doc) -> None:  # type: ignore[no-untyped-def]
    """Point the theme's major and minor Latin fonts at Arial too."""
    for part in doc.part.package.parts:
        if part.partname.endswith("theme1.xml"):
            xml = part.blob.decode("utf-8")
            for face in ("Aptos Display", "Aptos", "Calibri Light", "Calibri", "Cambria"):
                xml = xml.replace(f'typeface="{face}"', f'typeface="{FONT}"')
            part._blob = xml.encode("utf-8")


def _page(doc) -> None:  # type: ignore[no-untyped-def]
    """A4 portrait, 2 cm margins, 'Page N' centred in the footer."""
    body = doc.element.body
    if body.find(qn("w:sectPr")) is None:
        body.append(OxmlElement("w:sectPr"))
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Mm(20))
    section.top_margin, section.bottom_margin = Mm(20), Mm(22)
    section.footer_distance = Mm(10)
    para = section.footer.paragraphs[0]
    para.alignment = 1  # centre
    run = para.add_run("Page ")
    run.font.name, run.font.size, run.font.color.rgb = FONT, Pt(9), MUTED
    field = para.add_run()
    field.font.name, field.font.size, field.font.color.rgb = FONT, Pt(9), MUTED
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        field._r.append(el)


def build(out: Path = OUT) -> Path:
    """Write the styled reference document to ``out``."""
    doc = docx.Document(io.BytesIO(pandoc_default()))
    _defaults(doc)
    _theme_fonts(doc)
    for name in ("Normal", "Body Text", "First Paragraph", "Compact"):
        _style(doc, name, size=11, colour=INK)
    for name in ("Body Text", "First Paragraph"):
        _style(doc, name, before=0, after=6)
    _style(doc, "Title", size=24, bold=True, colour=NAVY, after=12)
    _style(doc, "Subtitle", size=14, colour=MUTED)
    for level, size in HEADINGS.items():
        _style(doc, f"Heading {level}", size=size, bold=True, italic=False,
               colour=NAVY if level <= 5 else INK, before=18 if level == 1 else 12, after=6, keep_next=True)
    next(s for s in doc.styles if s.name == "Heading 1").paragraph_format.page_break_before = True
    _style(doc, "Table Caption", size=10, bold=True, italic=False, colour=NAVY, before=6, after=4, keep_next=True)
    _style(doc, "Image Caption", size=10, italic=False, colour=MUTED, after=6)
    _style(doc, "Caption", size=10, italic=False, colour=MUTED)
    _style(doc, "Captioned Figure", keep_next=True)
    _style(doc, "Block Text", size=11, colour=INK, before=4, after=4)
    _style(doc, "Hyperlink", colour=LINK)
    _style(doc, "TOC Heading", size=16, bold=True, colour=NAVY)
    _contents_style(doc)
    for style in doc.styles.element.findall(qn("w:style")):  # e.g. 'Title Char' still names theme fonts
        rpr = style.find(qn("w:rPr"))
        if rpr is not None and rpr.find(qn("w:rFonts")) is not None:
            _fonts(rpr)
    _table_style(doc)
    _page(doc)
    doc.save(str(out))
    return out


if __name__ == "__main__":
    print(f"wrote {build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)}")
