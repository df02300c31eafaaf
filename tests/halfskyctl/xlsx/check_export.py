#!/usr/bin/python3
"""Checks `halfskyctl export --format xlsx` with python3-openpyxl: a 说明
sheet then DOMAINS domain sheets; each domain sheet's table header has the
Chinese column names; 年份, 数值, 分子, 分母 are number cells; the rows of
all sheets together are ROWS (the CSV export's row count) and every
indicator id appears on one sheet only.

usage: check_export.py FILE.xlsx ROWS DOMAINS. Prints the problems and exits
1, or "OK rows=N".
"""
import sys

import openpyxl

HEADER = ["指标代码", "指标名称", "区域代码", "区域名称", "年份", "性别", "城乡", "数值", "分子",
          "分母", "计量单位", "直报", "参与汇总区域数", "缺报区域", "下级汇总值", "与下级不符",
          "数据序号"]
NUMBERS = {"年份", "数值", "分子", "分母"}


def main():
    path, want_rows, want_domains = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    wb = openpyxl.load_workbook(path)
    problems = []
    if wb.sheetnames[0] != "说明" or len(wb.sheetnames) != want_domains + 1:
        problems.append(f"sheets {wb.sheetnames}")
    rows = 0
    sheet_of = {}
    for name in wb.sheetnames[1:]:
        ws = wb[name]
        header_at = None
        for r in ws.iter_rows():
            if [c.value for c in r[:len(HEADER)]] == HEADER:
                header_at = r[0].row
                break
        if header_at is None:
            problems.append(f"{name}: no header row {HEADER}")
            continue
        for r in ws.iter_rows(min_row=header_at + 1):
            if r[0].value is None or r[0].value == "（无）":
                continue
            rows += 1
            for i, h in enumerate(HEADER):
                c = r[i]
                if h in NUMBERS and c.value is not None and c.data_type != "n":
                    problems.append(f"{name}!{c.coordinate} {h} {c.value!r} is not a number")
            ind = r[0].value
            if sheet_of.setdefault(ind, name) != name:
                problems.append(f"{ind} on {sheet_of[ind]} and {name}")
            if r[5].value not in ("合计", "女", "男") or r[6].value not in ("全部", "城镇", "农村"):
                problems.append(f"{name}!A{r[0].row} sex/residence {r[5].value} {r[6].value}")
    if rows != want_rows:
        problems.append(f"{rows} rows, the CSV export has {want_rows}")
    if problems:
        print("\n".join(problems[:100]))
        sys.exit(1)
    print(f"OK rows={rows}")


if __name__ == "__main__":
    main()
