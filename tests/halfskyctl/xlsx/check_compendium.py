#!/usr/bin/python3
"""Checks that the statistical compendium `halfskyctl report --format xlsx`
wrote has the same figures as the HTML report of the same call: both parsed
(the HTML with the standard library's html.parser, the xlsx with
python3-openpyxl) and compared —

  * 总体情况 / 达标情况: every domain's 评估指标, 达标, 达标率 and status
    counts, and 合计;
  * each indicator's chart points (<circle class="pt">, their <title>
    "2024年 12.3/10万") = the 逐年数值 rows with a number and no partial
    coverage (partial figures are not drawn);
  * each target's figures (<dl class="fig">: 基期, 当前, 目标, 预计, 实际/所需
    年均变化, 进展指数 P) = the 目标评估 rows, in order;
  * the 年度监测数据 tables (本年 and 上年 with their coverage wording, 变化,
    女−男, 城−乡, 数据完整度) = the xlsx monitoring rows.

Every number in the xlsx must be a number cell. usage: check_compendium.py
REPORT.html REPORT.xlsx [DOMAINS]; DOMAINS (optional) is the number of
domain sheets expected. Prints the problems and exits 1, or "OK" with counts.
"""
import sys
from html.parser import HTMLParser

import openpyxl

problems = []


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children = []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, tag, cls=None):
        out = []
        for c in self.children:
            if isinstance(c, Node):
                if c.tag == tag and (cls is None or cls in c.attrs.get("class", "").split()):
                    out.append(c)
                out.extend(c.find_all(tag, cls))
        return out


class TreeBuilder(HTMLParser):
    VOID = {"meta", "br", "img", "hr", "input", "link"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("root", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in self.VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def fmt(v, decimals=2):
    s = "%.*f" % (decimals, v)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def rate(v):
    s = "%+.1f%%" % v
    return "0.0%" if s in ("-0.0%", "+0.0%") else s


def tables(ws):
    """caption → (header, rows as lists of cells) for a compendium sheet."""
    out = {}
    rows = list(ws.iter_rows())
    i = 0
    while i < len(rows):
        first = rows[i][0]
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        if (isinstance(first.value, str) and first.font.b and nxt is not None
                and nxt[0].fill.fgColor.rgb not in (None, "00000000")
                and isinstance(nxt[0].value, str)):
            header = [c.value for c in nxt]
            while header and header[-1] is None:
                header.pop()
            body = []
            j = i + 2
            while j < len(rows) and any(c.value is not None for c in rows[j]):
                body.append(rows[j][:len(header)])
                j += 1
            out[first.value] = (header, body)
            i = j
        else:
            i += 1
    return out


def num(cell, where):
    if cell.value is None:
        return None
    if cell.data_type != "n" or isinstance(cell.value, str):
        problems.append(f"{where}: {cell.value!r} is not a number cell")
        return None
    return cell.value


def main():
    html_path, xlsx_path = sys.argv[1], sys.argv[2]
    want_domains = int(sys.argv[3]) if len(sys.argv) > 3 else None
    b = TreeBuilder()
    with open(html_path, encoding="utf-8") as fh:
        b.feed(fh.read())
    doc = b.root
    wb = openpyxl.load_workbook(xlsx_path)
    if wb.sheetnames[0] != "总体情况":
        problems.append(f"first sheet {wb.sheetnames[0]}")
    if want_domains is not None and len(wb.sheetnames) - 1 != want_domains:
        problems.append(f"{len(wb.sheetnames) - 1} domain sheets, expected {want_domains}")
    # Summary.
    summary = doc.find_all("section", "summary")[0].find_all("table")[0]
    head = [th.text() for th in summary.find_all("th")][:-1]  # without 分布
    html_rows = []
    for tr in summary.find_all("tbody")[0].find_all("tr"):
        tds = [td.text() for td in tr.find_all("td")][:-1]
        html_rows.append(tds)
    xh, xrows = tables(wb["总体情况"])["达标情况"]
    if [h.replace("(%)", "") for h in xh] != head:
        problems.append(f"summary header {xh} vs {head}")
    xs = []
    for r in xrows:
        row = [r[0].value]
        for k, c in enumerate(r[1:], start=1):
            v = num(c, f"总体情况!{c.coordinate}")
            row.append(fmt(v, 1) + "%" if k == 3 and v is not None else
                       str(int(v)) if v is not None else "")
        xs.append(row)
    if xs != html_rows:
        problems.append(f"summary rows differ:\n  xlsx {xs}\n  html {html_rows}")
    counts = {"summary": len(xs), "points": 0, "figures": 0, "monitoring": 0}

    # Per indicator, from the HTML.
    html_points, html_figs = set(), {}
    for art in doc.find_all("article", "indicator"):
        ind = art.attrs["data-indicator"]
        for c in art.find_all("circle", "pt"):
            title = c.find_all("title")[0].text()
            html_points.add((ind, int(c.attrs["data-year"]), title))
        figs = []
        for ta in art.find_all("div", "ta"):
            items = {}
            for dl in ta.find_all("dl", "fig"):
                dts = [d.text() for d in dl.find_all("dt")]
                dds = [d.text() for d in dl.find_all("dd")]
                items = dict(zip(dts, dds))
            figs.append(items)
        html_figs[ind] = figs
    html_monitoring = []
    for t in doc.find_all("table", "monitoring"):
        for tr in t.find_all("tbody")[0].find_all("tr"):
            html_monitoring.append([td.text() for td in tr.find_all("td")])

    x_points, x_figs, x_monitoring = set(), {}, []
    for name in wb.sheetnames[1:]:
        ts = tables(wb[name])
        if "目标评估" not in ts or "逐年数值" not in ts:
            problems.append(f"{name}: tables {list(ts)}")
            continue
        h, rows = ts["逐年数值"]
        col = {k: i for i, k in enumerate(h)}
        for r in rows:
            v = num(r[col["数值"]], f"{name}!{r[col['数值']].coordinate}")
            year = num(r[col["年份"]], f"{name}!{r[col['年份']].coordinate}")
            note = r[col["数据说明"]].value or ""
            if v is not None and not note.startswith("仅"):
                unit = r[col["计量单位"]].value or ""
                x_points.add((r[col["指标代码"]].value, int(year), f"{int(year)}年 {fmt(v)}{unit}"))
        h, rows = ts["目标评估"]
        col = {k: i for i, k in enumerate(h)}
        for r in rows:
            g = lambda k: num(r[col[k]], f"{name}!{r[col[k]].coordinate}")
            unit = r[col["计量单位"]].value or ""
            items = {}
            if g("基期值") is not None:
                items[f"基期 {int(g('基期年份'))}"] = fmt(g("基期值")) + unit
            if g("当前值") is not None:
                items[f"当前 {int(g('当前年份'))}"] = fmt(g("当前值")) + unit
            if g("目标值") is not None:
                items[f"目标 {int(g('目标年份') or 0)}"] = fmt(g("目标值"), 4) + unit
            if g("预计值") is not None:
                items[f"预计 {int(g('目标年份') or 0)}"] = fmt(g("预计值")) + unit
            if g("实际年均变化(%)") is not None:
                items["实际年均变化"] = rate(g("实际年均变化(%)"))
            if g("所需年均变化(%)") is not None:
                items["所需年均变化"] = rate(g("所需年均变化(%)"))
            if g("进展指数P") is not None:
                items["进展指数 P"] = fmt(g("进展指数P"))
            x_figs.setdefault(r[col["指标代码"]].value, []).append(items)
        for caption, (h, rows) in ts.items():
            if not caption.endswith("年监测数据"):
                continue
            col = {k: i for i, k in enumerate(h)}
            for r in rows:
                g = lambda k: num(r[col[k]], f"{name}!{r[col[k]].coordinate}")

                def covered(k, note_k):
                    v = g(k)
                    if v is None:
                        return "-"
                    note = r[col[note_k]].value or ""
                    # 数据说明 「仅1/11个镇街，含未审核数据」 is the HTML's
                    # 「（仅1/11个镇街）（含未审核数据）」.
                    review = ""
                    if note.endswith("含未审核数据"):
                        note = note[: -len("含未审核数据")].rstrip("，")
                        review = "（含未审核数据）"
                    return fmt(v) + (f"（{note}）" if note else "") + review

                unit = r[col["计量单位"]].value
                x_monitoring.append([
                    f"{r[col['指标代码']].value} {r[col['指标名称']].value}"
                    + (f"（{unit}）" if unit else ""),
                    covered("本年", "本年数据说明"), covered("上年", "上年数据说明"),
                    *[fmt(g(k)) if g(k) is not None else "-" for k in ("变化", "女−男", "城−乡")],
                    fmt(g("数据完整度(%)"), 1) + "%"])
    if x_points != html_points:
        problems.append(f"chart points differ: only in xlsx {sorted(x_points - html_points)[:10]},"
                        f" only in html {sorted(html_points - x_points)[:10]}")
    for ind, figs in html_figs.items():
        mine = x_figs.get(ind, [])
        # The HTML prints more kinds of figure (事件数, 置信区间, …); compare
        # the ones the compendium has.
        trimmed = [{k: v for k, v in f.items() if k.split(" ")[0] in
                    ("基期", "当前", "目标", "预计", "实际年均变化", "所需年均变化", "进展指数")}
                   for f in figs]
        if trimmed != mine:
            problems.append(f"{ind} figures differ:\n  xlsx {mine}\n  html {trimmed}")
        counts["figures"] += len(mine)
    if x_monitoring != html_monitoring:
        diff = [(a, b) for a, b in zip(x_monitoring, html_monitoring) if a != b][:5]
        problems.append(f"monitoring rows differ ({len(x_monitoring)} vs "
                        f"{len(html_monitoring)}): {diff}")
    counts["points"] = len(x_points)
    counts["monitoring"] = len(x_monitoring)
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("OK", " ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
