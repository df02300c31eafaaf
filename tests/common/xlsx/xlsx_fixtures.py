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
import openpyxl.utils

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
    values = {"E7": 12.5, "F7": "text", "G7": ("e", "#DIV/0!")} (a str is
    stored as t="str", a ("e", text) tuple as an error value)."""
    part = sheet_part(path, title)

    def fn(s):
        for ref, value in values.items():
            pattern = re.compile(r'<c r="%s"([^>]*)><f>(.*?)</f><v\s*/?>(</v>)?</c>' % ref)
            if not pattern.search(s):
                raise KeyError("no formula at %s" % ref)
            if isinstance(value, tuple):  # ("e", "#DIV/0!"): an error value
                rep = lambda m: '<c r="%s" t="e"><f>%s</f><v>%s</v></c>' % (ref, m.group(2), value[1])
            elif isinstance(value, str):
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


FORM_HEADER = ["指标代码", "指标名称", "区域代码", "区域名称", "年份", "性别", "城乡", "计量单位",
               "填报内容", "分子", "分母", "数值", "上年分子", "上年分母", "上年数值", "数据来源", "备注"]
COL = {name: openpyxl.utils.get_column_letter(i + 1) for i, name in enumerate(FORM_HEADER)}


def form_sheet(wb, rows):
    """The report form's layout: a header block, the header row (row 7)
    with the informational columns, then `rows` (dicts by column name)
    from row 8; a second sheet 指标解释 without 区域代码 (skipped)."""
    ws = wb.active
    ws.title = "表式"
    ws["A1"] = "妇女发展纲要监测统计报表"
    ws.merge_cells("A1:Q1")
    ws["A2"] = "表号：HS-01"
    ws["A3"] = "制表机关：区统计局"
    ws["A4"] = "填报单位：区卫生健康局（HEALTH）"
    ws["A5"] = "报告期：2023年"
    ws["J5"] = "报送截止日期：2024-03-31"
    for i, name in enumerate(FORM_HEADER):
        ws.cell(row=7, column=i + 1, value=name)
    for r, row in enumerate(rows):
        for name, value in row.items():
            ws["%s%d" % (COL[name], 8 + r)] = value
    doc = wb.create_sheet("指标解释")
    doc.append(["指标代码", "指标名称", "指标解释"])
    doc.append(["HEALTH-11", "孕产妇系统管理率", "分子：系统管理的产妇人数；分母：活产数"])
    return ws


def keys(indicator, year, content, **more):
    row = {"指标代码": indicator, "指标名称": "（名称）", "区域代码": 610303, "区域名称": "本区",
           "年份": year, "性别": "合计", "城乡": "全部", "计量单位": "%", "填报内容": content}
    row.update(more)
    return row


def form_fixtures(out):
    # form.xlsx: filled by a unit; numbers typed, a formula with its cached
    # value, a number typed as text, rows left blank; last year's values beside.
    wb = openpyxl.Workbook()
    form_sheet(wb, [
        keys("HEALTH-11", 2023, "分子/分母", 分子=12, 分母="=600+400", 上年分子=10, 上年分母=900,
             数据来源="妇幼年报（Excel）"),
        keys("HEALTH-11", 2022, "分子/分母", 上年分子=9, 上年分母=950),
        keys("HEALTH-01", 2023, "数值", 数值=79.35, 数据来源="统计年鉴（Excel）", 备注="Excel表式"),
        keys("HEALTH-11", 2021, "分子/分母", 分子="7", 分母=1000, 数据来源="妇幼年报（文本数字）"),
        keys("HEALTH-11", 2020, "分子/分母"),
    ])
    wb.save(out + "/form.xlsx")
    shared_strings(out + "/form.xlsx")
    cache(out + "/form.xlsx", "表式", {"K8": 1000})

    # form_bad.xlsx: one good row and three bad cells (an ambiguous comma,
    # a formula's error value, a word in a number column).
    wb = openpyxl.Workbook()
    form_sheet(wb, [
        keys("HEALTH-11", 2023, "分子/分母", 分子=12, 分母=1000, 数据来源="妇幼年报"),
        keys("HEALTH-01", 2023, "数值", 数值="1,5", 数据来源="统计年鉴"),
        keys("HEALTH-11", 2021, "分子/分母", 分子=7, 分母="=1/0", 数据来源="妇幼年报"),
        keys("HEALTH-11", 2019, "分子/分母", 分子="十二", 分母=1000, 数据来源="妇幼年报"),
    ])
    wb.save(out + "/form_bad.xlsx")
    cache(out + "/form_bad.xlsx", "表式", {"K10": ("e", "#DIV/0!")})

    # form_uncached.xlsx: formulas as openpyxl leaves them (never opened in
    # Excel): in 分母 (refused), in 上年数值 and on 指标解释 (not read: ignored).
    wb = openpyxl.Workbook()
    form_sheet(wb, [keys("HEALTH-11", 2023, "分子/分母", 分子=12, 分母="=600+400", 上年数值="=M8/N8",
                         数据来源="x")])
    wb["指标解释"]["D2"] = "=1+1"
    wb.save(out + "/form_uncached.xlsx")

    # form_blank.xlsx: nothing filled in.
    wb = openpyxl.Workbook()
    form_sheet(wb, [keys("HEALTH-11", 2023, "分子/分母"), keys("HEALTH-11", 2022, "分子/分母")])
    wb.save(out + "/form_blank.xlsx")

    # plain.xlsx: the CSV's columns on a sheet, header in row 1.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["指标代码", "区域代码", "年份", "分子", "分母", "数据来源"])
    ws.append(["HEALTH-11", "610303", 2024, 5, 1000, "普通工作簿"])
    wb.save(out + "/plain.xlsx")

    # server_bad.xlsx: well-formed cells the server refuses (a plain value
    # for a proportion): its dry run names the row.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["说明：服务器校验"])
    ws.append(["指标代码", "区域代码", "年份", "数值", "数据来源"])
    ws.append(["HEALTH-11", "610303", 2025, 5, "x"])
    wb.save(out + "/server_bad.xlsx")

    # nothing.xlsx: no sheet has a header row.
    wb = openpyxl.Workbook()
    wb.active.append(["指标代码", "指标名称"])
    wb.save(out + "/nothing.xlsx")


def main():
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "reader":
        reader_fixtures(out)
    elif kind == "form":
        form_fixtures(out)
    else:
        raise SystemExit("unknown fixture set " + kind)


if __name__ == "__main__":
    main()
