#ifndef HALFSKY_COMMON_TEXT_FORMULA_H_
#define HALFSKY_COMMON_TEXT_FORMULA_H_

// Formula injection (CSV injection): a spreadsheet opening a CSV file takes
// a cell that begins with '=', '+', '-' or '@' (or a tab or carriage
// return, which some strip before looking) for a formula and runs it
// (=HYPERLINK(…), =WEBSERVICE(…), DDE). Text that reaches an export is the
// catalog's and people's (notes, narratives, acknowledgements), so every
// writer of a CSV or xlsx file asks LooksLikeFormula of each text cell:
//
//   * CSV (common/text/csv.h's CsvField): the field gets a leading
//     apostrophe, as OWASP recommends — Excel and LibreOffice show it as
//     text; the apostrophe is visible in a text editor;
//   * xlsx (common/xlsx/writer.h's Sheet::Text): the cell is a string cell
//     (never a formula) formatted as Text ("@"), so that retyping it in
//     Excel keeps it text too.
//
// A plain decimal number ("-3.5", "+2", "-1e-3", "-0.5%") is not
// formula-like: it is a number wherever it appears, and the exports write
// negative figures; nor is "-" or "+" alone ("-" is the tables' "no value").
// Pure; thread-safe.

#include <string>

#include "absl/strings/string_view.h"

namespace halfsky {

// True if `text` begins with '=', '+', '-', '@', '\t' or '\r' and is not a
// plain decimal number (sign, digits, optional fraction, optional
// exponent, optional '%') nor "-" or "+" alone.
bool LooksLikeFormula(absl::string_view text);

// `text` with a leading apostrophe if LooksLikeFormula, else unchanged.
std::string FormulaSafeText(absl::string_view text);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_TEXT_FORMULA_H_
