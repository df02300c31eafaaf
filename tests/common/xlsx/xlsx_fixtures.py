"""Workbooks for the xlsx reader's tests, written by openpyxl (Debian's
python3-openpyxl), then changed part by part where a test needs what
openpyxl does not write but Excel does: a shared string table (openpyxl
3.0 writes inline strings) with rich text and phonetic runs, cached values
of formulas (openpyxl writes none; Excel stores them when it saves), or a
deliberately broken part.

    python3 xlsx_fixtures.py reader OUTDIR     # common_xlsx_reader_test
    python3 xlsx_fixtures.py form OUTDIR       # the submit tests (a filled form)

Library functions (used by the other scripts under tests/): `patch`,
`shared_strings`, `cache`.
"""
import io
import re
import sys
import zipfile

import openpyxl

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def read_parts(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def write_parts(path, parts):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            z.writestr(name, data)


def patch(path, part, fn):
    """Replaces the text of `part` with fn(text)."""
    parts = read_parts(path)
    found = False
    out = []
    for name, data in parts:
        if name == part:
            data = fn(data.decode("utf-8")).encode("utf-8")
            found = True
        out.append((name, data))
    if not found:
        raise KeyError(part)
    write_parts(path, out)


def sheet_part(path, title):
    """The part of the sheet titled `title` (openpyxl: sheetN in order)."""
    wb = openpyxl.load_workbook(path)
    return "xl/worksheets/sheet%d.xml" % (wb.sheetnames.index(title) + 1)


def shared_strings(path, rich=None):
    """Moves every inline string into a shared string table, as Excel
    writes them. rich: {text: raw <si> inner XML} for strings to store as
    rich text instead."""
    rich = rich or {}
    parts = read_parts(path)
    table = []
    index = {}

    def intern(m):
        ref, style, text = m.group(1), m.group(2) or "", m.group(3)
        if text not in index:
            index[text] = len(table)
            table.append(text)
        return '<c r="%s"%s t="s"><v>%d</v></c>' % (ref, style, index[text])

    out = []
    for name, data in parts:
        if name.startswith("xl/worksheets/sheet"):
            s = data.decode("utf-8")
            s = re.sub(r'<c r="([A-Z]+[0-9]+)"( s="[0-9]+")? t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>',
                       intern, s)
            data = s.encode("utf-8")
        out.append((name, data))
    sis = []
    for text in table:
        plain = re.sub(r"&#([0-9]+);", lambda m: chr(int(m.group(1))), text)
        if plain in rich:
            sis.append("<si>%s</si>" % rich[plain])
        else:
            sis.append('<si><t xml:space="preserve">%s</t></si>' % text)
    sst = '<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="%s" count="%d" uniqueCount="%d">%s</sst>' % (
        MAIN, len(table), len(table), "".join(sis))
    final = []
    for name, data in out:
        if name == "xl/_rels/workbook.xml.rels":
            data = data.decode().replace(
                "</Relationships>",
                '<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>').encode()
        if name == "[Content_Types].xml":
            data = data.decode().replace(
                "</Types>",
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>').encode()
        final.append((name, data))
    final.append(("xl/sharedStrings.xml", sst.encode("utf-8")))
    write_parts(path, final)


def cache(path, title, values):
    """Stores cached values of formula cells, as Excel does when it saves:
    values = {"E7": 12.5, "F7": "text"} (a str is stored as t="str")."""
    part = sheet_part(path, title)

    def fn(s):
        for ref, value in values.items():
            pattern = re.compile(r'<c r="%s"([^>]*)><f>(.*?)</f><v\s*/?>(</v>)?</c>' % ref)
            if not pattern.search(s):
                raise KeyError("no formula at %s" % ref)
            if isinstance(value, str):
                rep = lambda m: '<c r="%s" t="str"><f>%s</f><v>%s</v></c>' % (ref, m.group(2), value)
            else:
                rep = lambda m: '<c r="%s"%s><f>%s</f><v>%s</v></c>' % (ref, m.group(1), m.group(2), repr(value))
            s = pattern.sub(rep, s, count=1)
        return s

    patch(path, part, fn)


def reader_fixtures(out):
    # cells.xlsx: every cell type, shared strings with rich text, cached formulas.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表式"
    ws["A1"] = "标题"
    ws["B2"] = 12
    ws["C2"] = -3.5
    ws["D2"] = 0.1
    ws["E2"] = 1e-7
    ws["F2"] = True
    ws["G2"] = "#DIV/0!"
    ws["H2"] = "RICH"
    ws["I2"] = 610303100
    ws["J2"] = 0.30000000000000004
    ws["A3"] = "=B2*2"
    ws["B3"] = '=CONCATENATE("o","k")'
    ws["C3"] = "a_x0007_b"  # stored as the escape text: a control character
    ws["XFD1048576"] = "corner"
    data = wb.create_sheet("Data 2")
    data["A1"] = "second"
    hidden = wb.create_sheet("lists")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "合计"
    wb.save(out + "/cells.xlsx")
    shared_strings(out + "/cells.xlsx", rich={
        "RICH": '<r><t>富</t></r><r><rPr><b/></rPr><t xml:space="preserve">文本 </t></r>'
                '<rPh sb="0" eb="1"><t>フ</t></rPh>'})
    cache(out + "/cells.xlsx", "表式", {"A3": 24, "B3": "ok"})
    # Excel writes 17 significant digits where 15 do not round-trip.
    patch(out + "/cells.xlsx", "xl/worksheets/sheet1.xml",
          lambda s: s.replace('<c r="J2" t="n"><v>0.3</v>', '<c r="J2" t="n"><v>0.30000000000000004</v>'))

    # uncached.xlsx: formulas as openpyxl writes them (no cached value).
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表式"
    ws["A1"] = 1
    ws["D7"] = "=A1+1"
    ws["E9"] = "=A1*3"
    wb.save(out + "/uncached.xlsx")

    # norefs.xlsx: cells and rows without r attributes (allowed by the format).
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"] = 1
    ws["B1"] = 2
    ws["A2"] = 3
    wb.save(out + "/norefs.xlsx")
    patch(out + "/norefs.xlsx", "xl/worksheets/sheet1.xml",
          lambda s: re.sub(r' r="[A-Z]+[0-9]+"', "", s).replace('<row r="2">', "<row>"))

    # doctype.xlsx: a DTD with an entity in the sheet: refused.
    wb = openpyxl.Workbook()
    wb.active["A1"] = 1
    wb.save(out + "/doctype.xlsx")
    patch(out + "/doctype.xlsx", "xl/worksheets/sheet1.xml",
          lambda s: '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]>' + s.replace("<v>1</v>", "<v>&a;</v>"))

    # bomb.xlsx: a sheet part of 3 MiB of whitespace (a few KiB compressed).
    wb = openpyxl.Workbook()
    wb.active["A1"] = 1
    wb.save(out + "/bomb.xlsx")
    patch(out + "/bomb.xlsx", "xl/worksheets/sheet1.xml",
          lambda s: s.replace("<sheetData>", "<sheetData>" + " " * (3 << 20)))

    # many.xlsx: 5000 zip entries.
    wb = openpyxl.Workbook()
    wb.active["A1"] = 1
    wb.save(out + "/many.xlsx")
    parts = read_parts(out + "/many.xlsx")
    parts += [("customXml/item%d.xml" % i, b"<a/>") for i in range(5000)]
    write_parts(out + "/many.xlsx", parts)

    # badcells.xlsx: a bad number, a shared string out of range, a bad reference.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表式"
    ws["B2"] = 5
    ws["C2"] = 6
    ws["D2"] = 7
    wb.save(out + "/badcells.xlsx")
    patch(out + "/badcells.xlsx", "xl/worksheets/sheet1.xml",
          lambda s: s.replace('<c r="B2" t="n"><v>5</v>', '<c r="B2" t="n"><v>5x</v>')
          .replace('<c r="C2" t="n"><v>6</v>', '<c r="C2" t="s"><v>99</v>')
          .replace('<c r="D2" t="n">', '<c r="XFE2" t="n">'))

    # strict.xlsx: strict OOXML namespaces.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"] = 42
    wb.save(out + "/strict.xlsx")
    for part in ("xl/worksheets/sheet1.xml", "xl/workbook.xml"):
        patch(out + "/strict.xlsx", part, lambda s: s.replace(
            "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            "http://purl.oclc.org/ooxml/spreadsheetml/main").replace(
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
            "http://purl.oclc.org/ooxml/officeDocument/relationships"))

    # notworkbook.xlsx: a zip without a workbook.
    write_parts(out + "/notworkbook.xlsx", [("hello.txt", b"hello")])


def main():
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "reader":
        reader_fixtures(out)
    else:
        raise SystemExit("unknown fixture set " + kind)


if __name__ == "__main__":
    main()
