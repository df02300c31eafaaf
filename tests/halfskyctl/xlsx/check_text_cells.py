#!/usr/bin/python3
"""usage: check_text_cells.py FILE.xlsx SHEET TEXT...

Each TEXT must be found in SHEET as a cell value, stored as a string (never
a formula: openpyxl reads a formula as data_type "f" and its text with the
leading '=') and formatted as Text ("@"), so Excel keeps it text when
retyped. Prints the problems and exits 1, or "OK n".
"""
import sys

import openpyxl


def main():
    path, sheet, texts = sys.argv[1], sys.argv[2], sys.argv[3:]
    ws = openpyxl.load_workbook(path)[sheet]
    problems = []
    for text in texts:
        cells = [c for row in ws.iter_rows() for c in row if c.value == text]
        if not cells:
            problems.append(f"{text!r}: not found in {sheet}")
            continue
        for c in cells:
            if c.data_type != "s":
                problems.append(f"{sheet}!{c.coordinate} {text!r}: data type {c.data_type}")
            if c.number_format != "@":
                problems.append(f"{sheet}!{c.coordinate} {text!r}: format {c.number_format!r}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"OK {len(texts)}")


if __name__ == "__main__":
    main()
