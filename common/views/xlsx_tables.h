#ifndef HALFSKY_COMMON_VIEWS_XLSX_TABLES_H_
#define HALFSKY_COMMON_VIEWS_XLSX_TABLES_H_

// CompendiumSheets (report_render.h) as an .xlsx workbook, through
// common/xlsx/writer.h: each sheet its title (row 1, bold), its notes, then
// its tables one under the other — a caption row, a header row (bold,
// shaded), the rows (numbers typed as numbers, text as strings, never
// formulas), a blank row between tables. The first table's header row is
// frozen; columns get widths from their contents. Sheets are not
// protected (a compendium is for reading and reuse). Writes `path`
// (replacing it); the writer's error otherwise, and no file. The only I/O
// of views/ besides WriteOutput; a library of its own
// (halfsky_xlsx_tables) so the pure views do not link libxlsxwriter.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/views/report_render.h"

namespace halfsky::views {

absl::Status WriteCompendiumXlsx(const std::vector<CompendiumSheet>& sheets,
                                 const std::string& title, const std::string& path);

// The same workbook as bytes (for a download): written to a private
// temporary file ($TMPDIR, else /tmp), read back and removed.
absl::StatusOr<std::string> CompendiumXlsxBytes(const std::vector<CompendiumSheet>& sheets,
                                                const std::string& title);

}  // namespace halfsky::views

#endif  // HALFSKY_COMMON_VIEWS_XLSX_TABLES_H_
