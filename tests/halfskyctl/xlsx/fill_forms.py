#!/usr/bin/python3
"""Fills report forms the way a member unit would, with openpyxl (an
independent writer): for every row of sheet 表式 whose key (指标代码, 区域代码,
年份, 性别, 城乡) has a value in the demo CSVs, the cells the row asks for
(分子 and 分母, 数值, or 工作进展 and 自评) and 数据来源 are filled; other rows
are left blank (the reader skips them).

usage: fill_forms.py DEMO_DIR YEAR FORM.xlsx... — each FORM is saved in
place; prints one line per form: "FILE filled N" (N = rows filled), then
"keys K": the distinct keys filled (a narrative's key includes its unit).
"""
import csv
import glob
import sys

import openpyxl


def demo_values(demo_dir, year):
    values = {}
    for path in glob.glob(f"{demo_dir}/demo-synthetic-*.csv"):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                if r["年份"] != str(year):
                    continue
                key = (r["指标代码"], r["区域代码"], int(r["年份"]), r["性别"] or "合计",
                       r["城乡"] or "全部")
                values[key] = r
    return values


def main():
    demo_dir, year, forms = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    values = demo_values(demo_dir, year)
    keys = set()
    for path in forms:
        wb = openpyxl.load_workbook(path)
        ws = wb["表式"]
        header_at, header = None, None
        for row in ws.iter_rows():
            cells = [c.value for c in row]
            if {"指标代码", "区域代码", "年份"} <= {c for c in cells if isinstance(c, str)}:
                header_at, header = row[0].row, cells
                break
        col = {name: i + 1 for i, name in enumerate(header) if name}
        filled = 0
        for r in range(header_at + 1, ws.max_row + 1):
            get = lambda name: ws.cell(row=r, column=col[name]).value
            key = (get("指标代码"), get("区域代码"), get("年份"), get("性别"), get("城乡"))
            v = values.get(key)
            if v is None:
                continue
            put = lambda name, x: ws.cell(row=r, column=col[name], value=x)
            if v["分子"] and "分子" in col:
                put("分子", float(v["分子"]))
                put("分母", float(v["分母"]))
            elif v["数值"]:
                put("数值", float(v["数值"]))
            elif v.get("工作进展") and "工作进展" in col:
                put("工作进展", v["工作进展"])
                put("自评", v["自评"])
            else:
                continue
            put("数据来源", v["数据来源"] or "示例数据（合成）")
            filled += 1
            narrative = "工作进展" in col and ws.cell(row=r, column=col["工作进展"]).value
            keys.add(key + ((ws.cell(row=r, column=col["填报单位"]).value,) if narrative else ()))
        wb.save(path)
        print(f"{path} filled {filled}")
    print(f"keys {len(keys)}")


if __name__ == "__main__":
    main()
