#!/usr/bin/python3
"""Checks the report forms `halfskyctl form --all` wrote, with openpyxl (an
independent xlsx reader, Debian's python3-openpyxl).

usage: check_forms.py EXPECTED.json

EXPECTED.json (written by halfskyctl_form_e2e_test): {"forms": [{"file",
"csv" (optional), "header" [...], "block" {label: text}, "rows": [{"key":
[indicator, area, year, sex, residence], "wanted": "fraction"|"value"|
"narrative", "min": number, "previous": {column: number}}], "indicators":
[ids]}]}. Prints every problem and exits 1 if there is any; prints "OK n"
otherwise.
"""
import csv
import io
import json
import sys

import openpyxl

FILL = {
    "fraction": {"分子", "分母", "公布数", "数据来源", "备注"},
    "value": {"数值", "数据来源", "备注"},
    "narrative": {"工作进展", "自评", "佐证材料", "数据来源", "备注"},
}
NUMBER_FILL = {"分子", "分母", "公布数", "数值"}
PREVIOUS = ["上年分子", "上年分母", "上年数值", "上年公布数"]

problems = []


def problem(where, text):
    problems.append(f"{where}: {text}")


def header_row(ws):
    """1-based index of the first row holding 指标代码, 区域代码 and 年份."""
    for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = {c for c in row if isinstance(c, str)}
        if {"指标代码", "区域代码", "年份"} <= cells:
            return r
    return None


def validations(ws):
    """(column letter, row) → list of DataValidation."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in range(rng.min_row, rng.max_row + 1):
                for col in range(rng.min_col, rng.max_col + 1):
                    out.setdefault((col, row), []).append(dv)
    return out


def check_form(f):
    path = f["file"]
    wb = openpyxl.load_workbook(path)
    if wb.sheetnames != ["表式", "指标解释"]:
        problem(path, f"sheets {wb.sheetnames}")
        return
    ws = wb["表式"]
    hr = header_row(ws)
    if hr is None:
        problem(path, "no header row")
        return
    header = [c.value for c in ws[hr]]
    while header and header[-1] is None:
        header.pop()
    if header != f["header"]:
        problem(path, f"header row {header} != {f['header']}")
        return
    col = {name: i for i, name in enumerate(header)}
    # Header block: label in column A, text in column B, above the header.
    block = {}
    for r in range(1, hr):
        a, b = ws.cell(row=r, column=1).value, ws.cell(row=r, column=2).value
        if isinstance(a, str) and b is not None:
            block[a] = b
    for label, text in f["block"].items():
        if block.get(label) != text:
            problem(path, f"header block {label}: {block.get(label)!r} != {text!r}")
    if not ws.protection.sheet:
        problem(path, "sheet 表式 not protected")
    if ws.freeze_panes is None or ws.freeze_panes[1:] != str(hr + 1):
        problem(path, f"freeze panes {ws.freeze_panes} (header row {hr})")
    dvs = validations(ws)
    rows = list(ws.iter_rows(min_row=hr + 1, values_only=False))
    rows = [r for r in rows if any(c.value is not None for c in r[:len(header)])]
    if len(rows) != len(f["rows"]):
        problem(path, f"{len(rows)} rows, expected {len(f['rows'])}")
    for cells, exp in zip(rows, f["rows"]):
        r = cells[0].row
        where = f"{path} 表式!A{r}"
        key = [cells[col["指标代码"]].value, cells[col["区域代码"]].value,
               cells[col["年份"]].value, cells[col["性别"]].value, cells[col["城乡"]].value]
        if key != exp["key"]:
            problem(where, f"key {key} != {exp['key']}")
            continue
        year = cells[col["年份"]]
        if year.data_type != "n" or not isinstance(year.value, int):
            problem(where, f"年份 not a number: {year.value!r} ({year.data_type})")
        fill = FILL[exp["wanted"]]
        for name, i in col.items():
            c = cells[i]
            unlocked = not c.protection.locked
            if unlocked != (name in fill):
                problem(where, f"{name} {'unlocked' if unlocked else 'locked'}")
            if name in fill and name in NUMBER_FILL:
                found = [dv for dv in dvs.get((i + 1, r), [])
                         if dv.type == "decimal" and dv.operator == "greaterThanOrEqual"]
                if not found:
                    problem(where, f"{name} has no decimal ≥ validation")
                    continue
                dv = found[0]
                if float(dv.formula1) != float(exp["min"]):
                    problem(where, f"{name} validation ≥ {dv.formula1}, expected {exp['min']}")
                if not (dv.prompt and "数字" in dv.prompt and dv.error and "数字" in dv.error
                        and dv.showErrorMessage and dv.showInputMessage):
                    problem(where, f"{name} validation messages {dv.prompt!r} {dv.error!r}")
            if name in fill and c.value is not None:
                problem(where, f"{name} pre-filled with {c.value!r}")
        for name in PREVIOUS:
            c = cells[col[name]]
            want = exp.get("previous", {}).get(name)
            if want is None:
                if c.value is not None:
                    problem(where, f"{name} = {c.value!r}, expected empty")
            elif c.data_type != "n" or c.value != want:
                problem(where, f"{name} = {c.value!r} ({c.data_type}), expected {want}")
        if cells[col["填报内容"]].value in (None, ""):
            problem(where, "填报内容 empty")
    ex = wb["指标解释"]
    if not ex.protection.sheet:
        problem(path, "sheet 指标解释 not protected")
    eh = [c.value for c in ex[1]]
    if "指标代码" not in eh or "区域代码" in eh or "指标解释" not in eh:
        problem(path, f"指标解释 header {eh}")
    else:
        ids = [r[eh.index("指标代码")] for r in ex.iter_rows(min_row=2, values_only=True)
               if r[0] is not None]
        if ids != f["indicators"]:
            problem(path, f"指标解释 ids {ids} != {f['indicators']}")
    if "csv" in f:
        with open(f["csv"], encoding="utf-8-sig", newline="") as fh:
            records = list(csv.reader(fh))
        if records[0] != header:
            problem(f["csv"], f"CSV header {records[0]} != xlsx header {header}")
        xrows = []
        for cells in rows:
            out = []
            for c in cells[:len(header)]:
                v = c.value
                if v is None:
                    out.append("")
                elif isinstance(v, float) and v.is_integer():
                    out.append(str(int(v)))
                else:
                    out.append(str(v))
            xrows.append(out)
        if records[1:] != xrows:
            problem(f["csv"], "CSV rows differ from the xlsx rows")


def main():
    with open(sys.argv[1], encoding="utf-8") as fh:
        expected = json.load(fh)
    for f in expected["forms"]:
        try:
            check_form(f)
        except Exception as e:  # a file openpyxl cannot read is a problem too
            problem(f["file"], f"{type(e).__name__}: {e}")
    if problems:
        print("\n".join(problems[:200]))
        print(f"{len(problems)} problems")
        sys.exit(1)
    print(f"OK {len(expected['forms'])}")


if __name__ == "__main__":
    main()
