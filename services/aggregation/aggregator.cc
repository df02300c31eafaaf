#include "services/aggregation/aggregator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "common/cache/cache_layout.h"

namespace halfsky::aggregation {

using halfsky::v1::Aggregate;
using halfsky::v1::DataKey;
using halfsky::v1::DataValue;
using halfsky::v1::Residence;
using halfsky::v1::Revision;
using halfsky::v1::Sex;

using cache::NormalizeResidence;
using cache::NormalizeSex;

bool Aggregator::SameCell(const Cell& a, const Cell& b) {
  return a.num == b.num && a.den == b.den && a.cnum == b.cnum && a.cden == b.cden &&
         a.seq == b.seq && a.max_seq == b.max_seq && a.children == b.children &&
         a.complete_children == b.complete_children &&
         a.published_children == b.published_children && a.parts == b.parts &&
         a.approved_parts == b.approved_parts && a.flags == b.flags;
}

Aggregator::Aggregator(std::shared_ptr<const CatalogIndex> catalog) : catalog_(std::move(catalog)) {
  const auto& cat = catalog_->catalog();
  if (cat.base_year() > 0) {
    first_year_ = cat.base_year();
  }
  if (cat.final_year() >= first_year_) {
    last_year_ = cat.final_year();
  }
  if (last_year_ < first_year_) {
    last_year_ = first_year_;
  }
  years_ = last_year_ - first_year_ + 1;
  if (years_ > 255) {
    years_ = 255;
    last_year_ = first_year_ + 254;
  }

  indicators_.resize(cat.indicators_size());
  for (int i = 0; i < cat.indicators_size(); ++i) {
    indicator_index_[cat.indicators(i).id()] = i;
  }
  for (int i = 0; i < cat.indicators_size(); ++i) {
    const auto& ind = cat.indicators(i);
    IndicatorInfo& info = indicators_[i];
    info.proto = &ind;
    if (ind.coverage_threshold_percent() > 0) {
      info.coverage_threshold = ind.coverage_threshold_percent();
    }
    const auto method = ind.aggregation().method();
    switch (ind.kind()) {
      case halfsky::v1::INDICATOR_KIND_RATE:
      case halfsky::v1::INDICATOR_KIND_PROPORTION:
        info.fraction_payload = true;
        info.method =
            method == halfsky::v1::AGGREGATION_METHOD_NONE ? Method::kNone : Method::kFractions;
        if (ind.kind() == halfsky::v1::INDICATOR_KIND_PROPORTION) {
          info.multiplier = 100;
        } else {
          info.multiplier = ind.multiplier() > 0 ? ind.multiplier() : 1;
        }
        break;
      case halfsky::v1::INDICATOR_KIND_COUNT:
        info.method = method == halfsky::v1::AGGREGATION_METHOD_NONE ? Method::kNone : Method::kSum;
        break;
      case halfsky::v1::INDICATOR_KIND_VALUE:
        if (method == halfsky::v1::AGGREGATION_METHOD_SUM) {
          info.method = Method::kSum;
        } else if (method == halfsky::v1::AGGREGATION_METHOD_WEIGHTED_MEAN) {
          auto it = indicator_index_.find(ind.aggregation().weight_indicator_id());
          if (it != indicator_index_.end() && it->second != i) {
            info.method = Method::kWeightedMean;
            info.weight = it->second;
          } else {
            info.method = Method::kNone;
          }
        } else {
          info.method = Method::kNone;
        }
        break;
      case halfsky::v1::INDICATOR_KIND_QUALITATIVE:
        info.method = Method::kQualitative;
        break;
      default:
        info.method = Method::kNone;
        break;
    }
  }
  for (int i = 0; i < static_cast<int>(indicators_.size()); ++i) {
    if (indicators_[i].weight >= 0) {
      indicators_[indicators_[i].weight].weighted.push_back(i);
    }
  }

  areas_.resize(cat.areas_size());
  for (int i = 0; i < cat.areas_size(); ++i) {
    area_index_[cat.areas(i).code()] = i;
    areas_[i].proto = &cat.areas(i);
  }
  for (int i = 0; i < cat.areas_size(); ++i) {
    const std::string& parent = cat.areas(i).parent_code();
    if (parent.empty()) {
      continue;
    }
    auto it = area_index_.find(parent);
    if (it != area_index_.end() && it->second != i) {
      areas_[i].parent = it->second;
      areas_[it->second].children.push_back(i);
    }
  }
  for (int i = 0; i < static_cast<int>(areas_.size()); ++i) {
    int depth = 0;
    for (int a = areas_[i].parent; a >= 0 && depth <= static_cast<int>(areas_.size());
         a = areas_[a].parent) {
      ++depth;
    }
    areas_[i].depth = depth;
    areas_deepest_first_.push_back(i);
  }
  std::stable_sort(areas_deepest_first_.begin(), areas_deepest_first_.end(),
                   [this](int a, int b) { return areas_[a].depth > areas_[b].depth; });
  series_by_area_.resize(areas_.size());
}

int Aggregator::IndicatorIndex(absl::string_view id) const {
  auto it = indicator_index_.find(id);
  return it == indicator_index_.end() ? -1 : it->second;
}

int Aggregator::AreaIndex(absl::string_view code) const {
  auto it = area_index_.find(code);
  return it == area_index_.end() ? -1 : it->second;
}

const halfsky::v1::Indicator& Aggregator::IndicatorAt(int index) const {
  return *indicators_[index].proto;
}

int64_t Aggregator::FindSeries(uint64_t key) const {
  auto it = series_index_.find(key);
  return it == series_index_.end() ? -1 : static_cast<int64_t>(it->second);
}

Aggregator::SeriesId Aggregator::GetOrCreateSeries(uint64_t key, int area) {
  auto [it, inserted] = series_index_.try_emplace(key, static_cast<SeriesId>(series_keys_.size()));
  if (inserted) {
    const SeriesId s = it->second;
    series_keys_.push_back(key);
    series_by_area_[area].push_back(s);
    if (areas_[area].children.empty()) {
      const uint32_t i = leaf_series_++;
      slots_.push_back(i | kLeafSlot);
      if (i / kChunk >= leaf_chunks_.size()) {
        leaf_chunks_.push_back(std::make_unique<LeafCell[]>(kChunk * years_));
      }
    } else {
      const uint32_t i = full_series_++;
      slots_.push_back(i);
      if (i / kChunk >= chunks_.size()) {
        chunks_.push_back(std::make_unique<Cell[]>(kChunk * years_));
      }
    }
  }
  return it->second;
}

Aggregator::Cell Aggregator::ExpandLeaf(const LeafCell& leaf) {
  Cell c;
  c.num = leaf.num;
  c.den = leaf.den;
  c.seq = leaf.seq();
  const uint8_t stored = leaf.flags();
  c.flags = static_cast<uint8_t>(stored & ~kLeafApproved);
  c.max_seq = (c.flags & (kDirect | kNarrative)) != 0 ? c.seq : 0;
  c.parts = (c.flags & kDirect) != 0 ? 1 : 0;
  c.approved_parts = (stored & kLeafApproved) != 0 ? 1 : 0;
  return c;
}

Aggregator::Cell Aggregator::CellAt(SeriesId s, int y) const {
  const uint32_t slot = slots_[s];
  const uint32_t i = slot & ~kLeafSlot;
  if (slot & kLeafSlot) {
    return ExpandLeaf(leaf_chunks_[i / kChunk][(i % kChunk) * years_ + y]);
  }
  return chunks_[i / kChunk][(i % kChunk) * years_ + y];
}

void Aggregator::StoreCell(SeriesId s, int y, const Cell& cell) {
  const uint32_t slot = slots_[s];
  const uint32_t i = slot & ~kLeafSlot;
  if ((slot & kLeafSlot) == 0) {
    chunks_[i / kChunk][(i % kChunk) * years_ + y] = cell;
    return;
  }
  // What a leaf keeps is all there is: its derived fields are its own
  // figure's (see LeafCell), which ExpandLeaf rebuilds.
  LeafCell& leaf = leaf_chunks_[i / kChunk][(i % kChunk) * years_ + y];
  leaf.num = cell.num;
  leaf.den = cell.den;
  leaf.Set(cell.seq, static_cast<uint8_t>((cell.flags & ~kLeafApproved) |
                                          (cell.approved_parts > 0 ? kLeafApproved : 0)));
}

bool Aggregator::Present(const Cell& c, const IndicatorInfo& info) const {
  if (info.method == Method::kQualitative) {
    return false;
  }
  // A parent whose only reporting children hold published figures has an
  // aggregate without a value that names them (never a silent gap).
  return (c.flags & kDirect) != 0 || c.children > 0 || c.published_children > 0;
}

std::optional<Aggregator::Figure> Aggregator::Effective(const Cell& c,
                                                        const IndicatorInfo& info) const {
  if (info.method == Method::kQualitative) {
    return std::nullopt;
  }
  if (c.flags & kDirect) {
    return Figure{c.num, c.den, false};
  }
  if (c.children > 0) {
    return Figure{c.cnum, c.cden, true};
  }
  return std::nullopt;
}

std::optional<double> Aggregator::DisplayValue(const IndicatorInfo& info, double num, double den,
                                               bool computed) const {
  if (info.fraction_payload) {
    if (den > 0) {
      return num / den * info.multiplier;
    }
    return std::nullopt;
  }
  if (info.method == Method::kWeightedMean && computed) {
    if (den > 0) {
      return num / den;
    }
    return std::nullopt;
  }
  return num;
}

std::optional<std::pair<Aggregator::SeriesId, int>> Aggregator::SetDirect(
    const Revision& revision) {
  const DataValue& dv = revision.data_value();
  const DataKey& key = dv.key();
  const int ind = IndicatorIndex(key.indicator_id());
  const int area = AreaIndex(key.area_code());
  const int y = key.year() - first_year_;
  if (ind < 0 || area < 0 || y < 0 || y >= years_ || revision.sequence() < 0 ||
      revision.sequence() >= (int64_t{1} << kLeafSeqBits)) {
    ++skipped_count_;
    return std::nullopt;
  }
  const IndicatorInfo& info = indicators_[ind];
  if (revision.withdrawn()) {
    // The key's figure (or narrative) is withdrawn: the cell keeps no
    // direct figure, only the withdrawal's sequence, so that replaying the
    // withdrawn revision (or older ones) cannot bring it back.
    const int sex = NormalizeSex(key.sex());
    const int res = NormalizeResidence(key.residence());
    const int64_t found = FindSeries(SeriesKey(ind, area, sex, res));
    if (found < 0) {
      // Nothing was ever loaded for the series: nothing to remove.
      last_sequence_ = std::max(last_sequence_, revision.sequence());
      return std::nullopt;
    }
    const SeriesId s = static_cast<SeriesId>(found);
    last_sequence_ = std::max(last_sequence_, revision.sequence());
    Cell c = CellAt(s, y);
    if (revision.sequence() <= c.seq) {
      return std::make_pair(s, y);
    }
    if ((c.flags & (kDirect | kNarrative)) != 0) {
      --data_value_count_;
    }
    c.num = 0;
    c.den = 0;
    c.seq = revision.sequence();
    c.flags &= static_cast<uint8_t>(~(kDirect | kNarrative));
    StoreCell(s, y, c);
    return std::make_pair(s, y);
  }
  double num = 0;
  double den = 0;
  uint8_t flag = kDirect;
  if (info.method == Method::kQualitative) {
    if (dv.payload_case() != DataValue::kNarrative) {
      ++skipped_count_;
      return std::nullopt;
    }
    flag = kNarrative;
  } else if (info.fraction_payload && dv.payload_case() == DataValue::kPublished) {
    // A published figure: its value as it stands, no counts.
    if (!std::isfinite(dv.published().value())) {
      ++skipped_count_;
      return std::nullopt;
    }
    num = dv.published().value();
    flag = kDirect | kPublished;
  } else if (info.fraction_payload) {
    if (dv.payload_case() != DataValue::kFraction || !std::isfinite(dv.fraction().numerator()) ||
        !std::isfinite(dv.fraction().denominator()) || dv.fraction().denominator() < 0) {
      ++skipped_count_;
      return std::nullopt;
    }
    num = dv.fraction().numerator();
    den = dv.fraction().denominator();
  } else {
    if (dv.payload_case() != DataValue::kValue || !std::isfinite(dv.value())) {
      ++skipped_count_;
      return std::nullopt;
    }
    num = dv.value();
  }
  const int sex = NormalizeSex(key.sex());
  const int res = NormalizeResidence(key.residence());
  const SeriesId s = GetOrCreateSeries(SeriesKey(ind, area, sex, res), area);
  if (info.method != Method::kNone && info.method != Method::kQualitative) {
    for (int a = areas_[area].parent; a >= 0; a = areas_[a].parent) {
      GetOrCreateSeries(SeriesKey(ind, a, sex, res), a);
    }
  }
  last_sequence_ = std::max(last_sequence_, revision.sequence());
  Cell c = CellAt(s, y);
  const bool had = (c.flags & (kDirect | kNarrative)) != 0;
  // c.seq stays set after a withdrawal: an older revision never returns.
  if (revision.sequence() <= c.seq) {
    // The same or an older revision again (replay after a reconnect).
    return std::make_pair(s, y);
  }
  if (!had) {
    ++data_value_count_;
  }
  c.num = num;
  c.den = den;
  c.seq = revision.sequence();
  c.flags = static_cast<uint8_t>((c.flags & ~kPublished) | flag);
  StoreCell(s, y, c);
  return std::make_pair(s, y);
}

void Aggregator::Recompute(SeriesId s, int y) {
  const uint64_t key = series_keys_[s];
  const int ind = static_cast<int>(key >> 40);
  const int area = static_cast<int>((key >> 8) & 0xffffffffULL);
  const int sex = static_cast<int>((key >> 4) & 0xf);
  const int res = static_cast<int>(key & 0xf);
  if (const uint32_t slot = slots_[s]; slot & kLeafSlot) {
    // A leaf combines nothing: of its derived fields only the approval is
    // not its own figure's (ExpandLeaf), so that is all there is to redo.
    const uint32_t i = slot & ~kLeafSlot;
    LeafCell& leaf = leaf_chunks_[i / kChunk][(i % kChunk) * years_ + y];
    const uint8_t stored = leaf.flags();
    const bool approved = (stored & kDirect) != 0 && DirectApproved(ind, area, y);
    leaf.Set(leaf.seq(),
             static_cast<uint8_t>(approved ? stored | kLeafApproved : stored & ~kLeafApproved));
    return;
  }
  const IndicatorInfo& info = indicators_[ind];
  Cell c = CellAt(s, y);
  c.cnum = 0;
  c.cden = 0;
  c.children = 0;
  c.complete_children = 0;
  c.published_children = 0;
  c.max_seq = (c.flags & (kDirect | kNarrative)) ? c.seq : 0;
  const bool direct = (c.flags & kDirect) != 0;
  c.parts = direct ? 1 : 0;
  c.approved_parts = direct && DirectApproved(ind, area, y) ? 1 : 0;
  if (info.method == Method::kNone || info.method == Method::kQualitative) {
    StoreCell(s, y, c);
    return;
  }
  int32_t child_parts = 0;
  int32_t child_approved = 0;
  for (int child : areas_[area].children) {
    const int64_t cs = FindSeries(SeriesKey(ind, child, sex, res));
    if (cs < 0) {
      continue;
    }
    const Cell cc = CellAt(static_cast<SeriesId>(cs), y);
    if (OnlyPublished(cc)) {
      // A published figure has no counts: it is left out of the sum, and
      // the parent's coverage names it.
      ++c.published_children;
      c.max_seq = std::max(c.max_seq, cc.max_seq);
      continue;
    }
    const auto eff = Effective(cc, info);
    if (!eff) {
      continue;
    }
    switch (info.method) {
      case Method::kFractions:
        c.cnum += eff->num;
        c.cden += eff->den;
        break;
      case Method::kSum:
        c.cnum += eff->num;
        break;
      case Method::kWeightedMean: {
        double value = eff->num;
        if (eff->computed) {
          if (!(eff->den > 0)) {
            continue;
          }
          value = eff->num / eff->den;
        }
        const int64_t ws = FindSeries(SeriesKey(info.weight, child, sex, res));
        if (ws < 0) {
          continue;
        }
        const Cell wc = CellAt(static_cast<SeriesId>(ws), y);
        const auto weff = Effective(wc, indicators_[info.weight]);
        if (!weff) {
          continue;
        }
        c.cnum += value * weff->num;
        c.cden += weff->num;
        c.max_seq = std::max(c.max_seq, wc.max_seq);
        child_parts += wc.parts;
        child_approved += wc.approved_parts;
        break;
      }
      default:
        break;
    }
    ++c.children;
    if (!Incomplete(cc, child, info)) {
      ++c.complete_children;
    }
    c.max_seq = std::max(c.max_seq, cc.max_seq);
    child_parts += cc.parts;
    child_approved += cc.approved_parts;
  }
  if (!direct) {
    c.parts = child_parts;
    c.approved_parts = child_approved;
  }
  StoreCell(s, y, c);
}

bool Aggregator::DirectApproved(int indicator, int area, int y) const {
  if (approved_units_.empty()) {
    return false;
  }
  const auto it = approved_units_.find(std::make_pair(area, y));
  if (it == approved_units_.end()) {
    return false;
  }
  for (const std::string& unit : indicators_[indicator].proto->responsible_unit_codes()) {
    if (std::find(it->second.begin(), it->second.end(), unit) != it->second.end()) {
      return true;
    }
  }
  return false;
}

std::optional<std::pair<int, int>> Aggregator::SetForm(const halfsky::v1::FormChange& change) {
  if (change.form_sequence() <= last_form_sequence_) {
    return std::nullopt;  // a replay
  }
  last_form_sequence_ = change.form_sequence();
  const halfsky::v1::FormKey& key = change.key();
  const int area =
      key.area_code().empty() ? AreaIndex(catalog_->RootArea().code()) : AreaIndex(key.area_code());
  const int y = key.year() - first_year_;
  if (area < 0 || y < 0 || y >= years_ || catalog_->FindMemberUnit(key.unit_code()) == nullptr) {
    ++skipped_count_;
    return std::nullopt;
  }
  std::vector<std::string>& units = approved_units_[std::make_pair(area, y)];
  const auto found = std::find(units.begin(), units.end(), key.unit_code());
  if (change.state() == halfsky::v1::FORM_STATE_APPROVED) {
    if (found == units.end()) {
      units.push_back(key.unit_code());
    }
  } else if (found != units.end()) {
    units.erase(found);
  }
  if (units.empty()) {
    approved_units_.erase(std::make_pair(area, y));
  }
  return std::make_pair(area, y);
}

bool Aggregator::LoadFormChange(const halfsky::v1::FormChange& change) {
  return SetForm(change).has_value();
}

bool Aggregator::ApplyFormChange(const halfsky::v1::FormChange& change, ChangeSet* changes) {
  const auto set = SetForm(change);
  if (!set) {
    return false;
  }
  const auto [area, y] = *set;
  absl::flat_hash_set<int> own;
  for (const halfsky::v1::Indicator* ind : catalog_->IndicatorsOfUnit(change.key().unit_code())) {
    own.insert(IndicatorIndex(ind->id()));
  }
  // Copy: RecomputeUpward never creates series, but keep the loop safe.
  const std::vector<SeriesId> series = series_by_area_[area];
  for (SeriesId s : series) {
    const uint64_t key = series_keys_[s];
    const int ind = static_cast<int>(key >> 40);
    if (!own.contains(ind) || indicators_[ind].method == Method::kQualitative) {
      continue;
    }
    RecomputeUpward(ind, area, static_cast<int>((key >> 4) & 0xf), static_cast<int>(key & 0xf), y,
                    changes);
  }
  return true;
}

void Aggregator::RecomputeUpward(int ind, int area, int sex, int res, int y, ChangeSet* changes) {
  RecomputeAndRecord(SeriesKey(ind, area, sex, res), y, changes);
  for (int a = areas_[area].parent; a >= 0; a = areas_[a].parent) {
    RecomputeAndRecord(SeriesKey(ind, a, sex, res), y, changes);
  }
  for (int v : indicators_[ind].weighted) {
    for (int a = areas_[area].parent; a >= 0; a = areas_[a].parent) {
      RecomputeAndRecord(SeriesKey(v, a, sex, res), y, changes);
    }
  }
}

bool Aggregator::OnlyPublished(const Cell& c) {
  if (c.flags & kDirect) {
    return (c.flags & kPublished) != 0;
  }
  return c.children == 0 && c.published_children > 0;
}

bool Aggregator::Incomplete(const Cell& c, int area, const IndicatorInfo& info) const {
  if ((c.flags & kDirect) != 0) {
    return false;
  }
  if (c.children == 0) {
    return c.published_children > 0;
  }
  const double expected = static_cast<double>(areas_[area].children.size());
  // complete / expected × 100 < threshold, without division (and with a
  // tolerance so that 100 % of 3 children is not 99.999…).
  return c.complete_children * 100.0 < info.coverage_threshold * expected - 1e-9;
}

void Aggregator::RecomputeAndRecord(uint64_t key, int y, ChangeSet* changes) {
  const int64_t found = FindSeries(key);
  if (found < 0) {
    return;
  }
  const SeriesId s = static_cast<SeriesId>(found);
  const Cell before = CellAt(s, y);
  Recompute(s, y);
  if (changes != nullptr && !SameCell(before, CellAt(s, y))) {
    changes->cells.insert(MakeCell(s, y));
    changes->indicators.insert(static_cast<int>(key >> 40));
  }
}

bool Aggregator::Apply(const Revision& revision, ChangeSet* changes) {
  // Snapshot the own cell first so that a changed direct figure is recorded
  // even when Recompute leaves the derived fields as they were.
  const auto set = SetDirect(revision);
  if (!set) {
    return false;
  }
  const auto [s, y] = *set;
  const uint64_t key = series_keys_[s];
  const int ind = static_cast<int>(key >> 40);
  const int area = static_cast<int>((key >> 8) & 0xffffffffULL);
  const int sex = static_cast<int>((key >> 4) & 0xf);
  const int res = static_cast<int>(key & 0xf);
  {
    Recompute(s, y);
    if (changes != nullptr && indicators_[ind].method != Method::kQualitative) {
      // The direct figure itself may have changed: always record the own cell.
      changes->cells.insert(MakeCell(s, y));
      changes->indicators.insert(ind);
    }
  }
  for (int a = areas_[area].parent; a >= 0; a = areas_[a].parent) {
    RecomputeAndRecord(SeriesKey(ind, a, sex, res), y, changes);
  }
  for (int v : indicators_[ind].weighted) {
    for (int a = areas_[area].parent; a >= 0; a = areas_[a].parent) {
      RecomputeAndRecord(SeriesKey(v, a, sex, res), y, changes);
    }
  }
  return true;
}

bool Aggregator::Load(const Revision& revision) { return SetDirect(revision).has_value(); }

void Aggregator::RecomputeAll() {
  for (int area : areas_deepest_first_) {
    for (SeriesId s : series_by_area_[area]) {
      for (int y = 0; y < years_; ++y) {
        Recompute(s, y);
      }
    }
  }
}

int64_t Aggregator::aggregate_count() const {
  int64_t n = 0;
  for (SeriesId s = 0; s < series_keys_.size(); ++s) {
    const IndicatorInfo& info = indicators_[series_keys_[s] >> 40];
    for (int y = 0; y < years_; ++y) {
      if (Present(CellAt(s, y), info)) {
        ++n;
      }
    }
  }
  return n;
}

Aggregator::SeriesName Aggregator::NameOf(SeriesId s) const {
  const uint64_t key = series_keys_[s];
  const int ind = static_cast<int>(key >> 40);
  const int area = static_cast<int>((key >> 8) & 0xffffffffULL);
  return SeriesName{&indicators_[ind].proto->id(), &areas_[area].proto->code(),
                    static_cast<Sex>((key >> 4) & 0xf), static_cast<Residence>(key & 0xf), ind};
}

DataKey Aggregator::KeyOf(CellId cell) const {
  const SeriesName name = NameOf(SeriesOf(cell));
  DataKey key;
  key.set_indicator_id(*name.indicator_id);
  key.set_area_code(*name.area_code);
  key.set_year(first_year_ + YearIndexOf(cell));
  key.set_sex(name.sex);
  key.set_residence(name.residence);
  return key;
}

std::optional<Aggregate> Aggregator::RenderCell(SeriesId s, int y) const {
  Aggregate a;
  if (!RenderCellValue(s, y, &a)) {
    return std::nullopt;
  }
  const uint64_t key = series_keys_[s];
  DataKey* k = a.mutable_key();
  k->set_indicator_id(indicators_[key >> 40].proto->id());
  k->set_area_code(areas_[(key >> 8) & 0xffffffffULL].proto->code());
  k->set_year(first_year_ + y);
  k->set_sex(static_cast<Sex>((key >> 4) & 0xf));
  k->set_residence(static_cast<Residence>(key & 0xf));
  return a;
}

bool Aggregator::RenderValue(CellId cell, Aggregate* out) const {
  const SeriesId s = SeriesOf(cell);
  if (s >= series_keys_.size() || YearIndexOf(cell) >= years_) {
    return false;
  }
  return RenderCellValue(s, YearIndexOf(cell), out);
}

bool Aggregator::RenderCellValue(SeriesId s, int y, Aggregate* out) const {
  const uint64_t key = series_keys_[s];
  const int ind = static_cast<int>(key >> 40);
  const int area = static_cast<int>((key >> 8) & 0xffffffffULL);
  const int sex = static_cast<int>((key >> 4) & 0xf);
  const int res = static_cast<int>(key & 0xf);
  const IndicatorInfo& info = indicators_[ind];
  const Cell c = CellAt(s, y);
  auto eff = Effective(c, info);
  if (!eff) {
    if (!Present(c, info)) {
      return false;
    }
    eff = Figure{0, 0, true};  // only published children: no value
  }
  out->Clear();
  Aggregate& a = *out;
  a.set_numerator(eff->num);
  a.set_denominator(eff->den);
  const auto value = DisplayValue(info, eff->num, eff->den, eff->computed);
  if (value) {
    a.set_value(*value);
    a.set_has_value(true);
  }
  a.set_contributing_area_count(c.children);
  const bool direct = (c.flags & kDirect) != 0;
  a.set_direct(direct);
  const auto& children = areas_[area].children;
  a.set_expected_area_count(static_cast<int32_t>(children.size()));
  a.set_incomplete(Incomplete(c, area, info));
  if (c.flags & kPublished) {
    a.set_published(true);
    a.set_numerator(0);
    a.set_value(c.num);
    a.set_has_value(true);
  }
  if (direct) {
    if (c.children > 0 && info.fraction_payload && !(c.flags & kPublished) && c.den > 0) {
      a.set_children_denominator_share_percent(c.cden / c.den * 100);
    }
    if (c.children > 0) {
      const auto cv = DisplayValue(info, c.cnum, c.cden, true);
      if (cv) {
        a.set_children_value(*cv);
        if (value && c.children == static_cast<int32_t>(children.size())) {
          const double diff = std::fabs(*value - *cv);
          const double scale = std::max(std::fabs(*value), std::fabs(*cv));
          a.set_children_mismatch(
              diff > std::max(kMismatchAbsoluteTolerance, kMismatchRelativeTolerance * scale));
        }
      }
    }
  }
  if (!direct && c.children < static_cast<int32_t>(children.size())) {
    // Which children did not contribute: the same test as Recompute.
    for (int child : children) {
      bool contributes = false;
      const int64_t cs = FindSeries(SeriesKey(ind, child, sex, res));
      if (cs >= 0 && OnlyPublished(CellAt(static_cast<SeriesId>(cs), y))) {
        a.add_published_area_codes(areas_[child].proto->code());
        continue;
      }
      if (cs >= 0) {
        const auto ceff = Effective(CellAt(static_cast<SeriesId>(cs), y), info);
        if (ceff) {
          contributes = true;
          if (info.method == Method::kWeightedMean) {
            if (ceff->computed && !(ceff->den > 0)) {
              contributes = false;
            } else {
              const int64_t ws = FindSeries(SeriesKey(info.weight, child, sex, res));
              contributes = ws >= 0 && Effective(CellAt(static_cast<SeriesId>(ws), y),
                                                 indicators_[info.weight])
                                           .has_value();
            }
          }
        }
      }
      if (!contributes) {
        a.add_missing_area_codes(areas_[child].proto->code());
      }
    }
  }
  a.set_as_of_sequence(c.max_seq);
  a.set_part_count(c.parts);
  a.set_approved_part_count(c.approved_parts);
  return true;
}

std::optional<Aggregate> Aggregator::Render(CellId cell) const {
  const SeriesId s = SeriesOf(cell);
  if (s >= series_keys_.size() || YearIndexOf(cell) >= years_) {
    return std::nullopt;
  }
  return RenderCell(s, YearIndexOf(cell));
}

std::optional<Aggregate> Aggregator::Get(const DataKey& key) const {
  const int ind = IndicatorIndex(key.indicator_id());
  const int area = AreaIndex(key.area_code());
  const int y = key.year() - first_year_;
  if (ind < 0 || area < 0 || y < 0 || y >= years_) {
    return std::nullopt;
  }
  const int64_t s = FindSeries(
      SeriesKey(ind, area, NormalizeSex(key.sex()), NormalizeResidence(key.residence())));
  if (s < 0) {
    return std::nullopt;
  }
  return RenderCell(static_cast<SeriesId>(s), y);
}

bool Aggregator::Reported(const DataKey& key) const {
  const int ind = IndicatorIndex(key.indicator_id());
  const int area = AreaIndex(key.area_code());
  const int y = key.year() - first_year_;
  if (ind < 0 || area < 0 || y < 0 || y >= years_) {
    return false;
  }
  const int64_t s = FindSeries(
      SeriesKey(ind, area, NormalizeSex(key.sex()), NormalizeResidence(key.residence())));
  if (s < 0) {
    return false;
  }
  return (CellAt(static_cast<SeriesId>(s), y).flags & (kDirect | kNarrative)) != 0;
}

void Aggregator::ForEachSeriesSorted(const std::vector<int>& indicator_indexes,
                                     const std::vector<int>& area_indexes,
                                     const std::function<void(SeriesId)>& fn) const {
  absl::flat_hash_set<int> inds(indicator_indexes.begin(), indicator_indexes.end());
  absl::flat_hash_set<int> areas(area_indexes.begin(), area_indexes.end());
  std::vector<std::pair<uint64_t, SeriesId>> sorted;
  sorted.reserve(series_keys_.size());
  for (SeriesId s = 0; s < series_keys_.size(); ++s) {
    const uint64_t key = series_keys_[s];
    if (!inds.empty() && !inds.contains(static_cast<int>(key >> 40))) {
      continue;
    }
    if (!areas.empty() && !areas.contains(static_cast<int>((key >> 8) & 0xffffffffULL))) {
      continue;
    }
    sorted.emplace_back(key, s);
  }
  // The key's bit layout (indicator, area, sex, residence) is catalog order.
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [key, s] : sorted) {
    fn(s);
  }
}

void Aggregator::ForEach(const std::function<void(const Aggregate&)>& fn) const {
  ForEachFiltered({}, {}, first_year_, last_year_, fn);
}

void Aggregator::ForEachFiltered(const std::vector<int>& indicator_indexes,
                                 const std::vector<int>& area_indexes, int from_year, int to_year,
                                 const std::function<void(const Aggregate&)>& fn) const {
  const int y0 = std::max(0, from_year - first_year_);
  const int y1 = std::min(years_ - 1, to_year - first_year_);
  ForEachSeriesSorted(indicator_indexes, area_indexes, [&](SeriesId s) {
    for (int y = y0; y <= y1; ++y) {
      auto a = RenderCell(s, y);
      if (a) {
        fn(*a);
      }
    }
  });
}

bool Aggregator::SeriesHasFigure(SeriesId s) const {
  if (s >= series_keys_.size()) {
    return false;
  }
  const IndicatorInfo& info = indicators_[series_keys_[s] >> 40];
  for (int y = 0; y < years_; ++y) {
    if (Present(CellAt(s, y), info)) {
      return true;
    }
  }
  return false;
}

void Aggregator::ForEachCellAfter(int64_t after_sequence,
                                  const std::function<void(CellId)>& fn) const {
  for (SeriesId s = 0; s < series_keys_.size(); ++s) {
    const IndicatorInfo& info = indicators_[series_keys_[s] >> 40];
    for (int y = 0; y < years_; ++y) {
      const Cell c = CellAt(s, y);
      if (Present(c, info) && c.max_seq > after_sequence) {
        fn(MakeCell(s, y));
      }
    }
  }
}

}  // namespace halfsky::aggregation
