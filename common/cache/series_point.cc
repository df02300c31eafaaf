#include "common/cache/series_point.h"

namespace halfsky::cache {

void FillSeriesPoint(const halfsky::v1::Aggregate& a, halfsky::v1::SeriesPoint* p) {
  p->set_year(a.key().year());
  if (a.has_value()) {
    p->set_value(a.value());
  }
  p->set_numerator(a.numerator());
  p->set_denominator(a.denominator());
  p->set_direct(a.direct());
  p->set_children_mismatch(a.children_mismatch());
  if (a.has_children_value()) {
    p->set_children_value(a.children_value());
  }
  const int expected = a.expected_area_count() > 0
                           ? a.expected_area_count()
                           : a.contributing_area_count() + a.missing_area_codes_size() +
                                 a.published_area_codes_size();
  p->set_completeness_percent(
      a.direct() || expected == 0 ? 100.0 : 100.0 * a.contributing_area_count() / expected);
  p->set_contributing_area_count(a.contributing_area_count());
  p->set_expected_area_count(expected);
  // A value cached before coverage existed (no expected_area_count) is
  // read at the default threshold: a combined figure with missing children
  // is incomplete.
  p->set_incomplete(a.incomplete() || (a.expected_area_count() == 0 && !a.direct() &&
                                       a.missing_area_codes_size() > 0));
  p->set_published(a.published());
  p->set_published_area_count(a.published_area_codes_size());
  p->set_part_count(a.part_count());
  p->set_approved_part_count(a.approved_part_count());
  // part_count 0: a value cached before approval was tracked (or without
  // any figure): never read as approved.
  p->set_contains_unapproved_data(a.part_count() == 0 || a.approved_part_count() < a.part_count());
}

halfsky::v1::SeriesPoint SeriesPointFromAggregate(const halfsky::v1::Aggregate& aggregate) {
  halfsky::v1::SeriesPoint point;
  FillSeriesPoint(aggregate, &point);
  return point;
}

}  // namespace halfsky::cache
