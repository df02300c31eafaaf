#include "services/submission/key_directory.h"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "services/submission/sqlite_schema.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;

absl::StatusOr<uint64_t> KeyDirectory::PackedKey(absl::string_view indicator_id,
                                                 absl::string_view unit_code,
                                                 absl::string_view area_code, int64_t year,
                                                 int64_t sex, int64_t residence) {
  auto intern = [](absl::flat_hash_map<std::string, uint32_t>& ids, absl::string_view s,
                   uint32_t next) {
    auto it = ids.find(s);
    if (it == ids.end()) {
      it = ids.emplace(std::string(s), next).first;
    }
    return it->second;
  };
  // Slot of (indicator, unit): a figure's (unit "") is its indicator's own
  // slot, one lookup as before; a narrative's is interned as the pair of the
  // indicator's slot and the interned unit, in the same slot space.
  uint32_t slot = intern(indicator_ids_, indicator_id, next_indicator_slot_);
  if (slot == next_indicator_slot_) {
    ++next_indicator_slot_;
  }
  if (!unit_code.empty()) {
    const uint64_t pair = static_cast<uint64_t>(slot) << 32 |
                          intern(unit_ids_, unit_code, static_cast<uint32_t>(unit_ids_.size()));
    auto [it, inserted] = narrative_slots_.try_emplace(pair, next_indicator_slot_);
    if (inserted) {
      ++next_indicator_slot_;
    }
    slot = it->second;
  }
  // 20 bits each for the slot and the interned area (the catalog has
  // hundreds of indicators, a few hundred (objective, unit) pairs and
  // hundreds of areas), 16 for the year, 4 each for sex and residence.
  const uint32_t area = intern(area_ids_, area_code, static_cast<uint32_t>(area_ids_.size()));
  constexpr uint32_t kIds = 1u << 20;
  if (slot >= kIds || area >= kIds) {
    return absl::ResourceExhaustedError(
        "submission store: more than 2^20 distinct indicators or areas in the key directory");
  }
  return static_cast<uint64_t>(slot) << 44 | static_cast<uint64_t>(area) << 24 |
         (static_cast<uint64_t>(year) & 0xffff) << 8 | (static_cast<uint64_t>(sex) & 0xf) << 4 |
         (static_cast<uint64_t>(residence) & 0xf);
}

// One slot per key: keep it small (a key's value is a digest, not its bytes).
static_assert(sizeof(KeyDirectory::KeyState) <= 40, "KeyState grew: see key_directory.h");

KeyDirectory::ValueDigest KeyDirectory::Digest(absl::string_view encoded) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(encoded.data(), encoded.size(), md, &len, EVP_sha256(), nullptr);
  ValueDigest digest;
  std::memcpy(digest.data(), md, digest.size());
  return digest;
}

void KeyDirectory::Clear() {
  index_.clear();
  blocks_.clear();
  size_ = 0;
}

KeyDirectory::KeyState* KeyDirectory::Add(uint64_t packed, const KeyState& state, bool replace) {
  if (size_ % kBlockEntries == 0 && size_ / kBlockEntries == blocks_.size()) {
    blocks_.push_back(std::make_unique<Entry[]>(kBlockEntries));
  }
  // Written at the next free place first: the index hashes entry numbers
  // by the entry's packed key. One hash lookup either way.
  Entry& e = blocks_[size_ / kBlockEntries][size_ % kBlockEntries];
  e.packed = packed;
  e.state = state;
  const auto [it, inserted] = index_.insert(size_);
  if (inserted) {
    ++size_;
    return &e.state;
  }
  KeyState* existing = &blocks_[*it / kBlockEntries][*it % kBlockEntries].state;
  if (replace) {
    *existing = state;
  }
  return existing;
}

absl::Status KeyDirectory::Load() {
  Clear();
  complete_ = false;
  sqlite::Statement s;
  HALFSKY_RETURN_IF_ERROR(s.Prepare(
      *db_, absl::StrCat("SELECT k.indicator_id, k.area_code, k.year, k.sex, k.residence, "
                         "k.key_id, r.revision, r.data_value, r.sequence, k.unit_code, "
                         "r.withdrawn",
                         kCurrentRevisionJoin)));
  while (true) {
    absl::StatusOr<int> step = s.Step();
    if (!step.ok()) {
      Clear();
      return step.status();
    }
    if (*step != SQLITE_ROW) {
      break;
    }
    const absl::string_view unit = s.View(9);
    absl::StatusOr<uint64_t> key =
        PackedKey(s.View(0), unit, s.View(1), s.Int(2), s.Int(3), s.Int(4));
    if (!key.ok()) {
      Clear();
      return key.status();
    }
    KeyState state;
    state.key_id = s.Int(5);
    state.revision = static_cast<int32_t>(s.Int(6));
    state.digest = Digest(EncodedWithUnit(s.Text(7), unit));
    state.sequence = s.Int(8);
    state.withdrawn = s.Int(10) != 0;
    // Each key has one current revision, so one row: a repeated key would
    // be a broken join, and is kept once (the later row) as a map would.
    Add(*key, state, /*replace=*/true);
  }
  complete_ = true;
  return absl::OkStatus();
}

absl::StatusOr<KeyDirectory::KeyState*> KeyDirectory::Find(const v1::DataKey& key) {
  HALFSKY_ASSIGN_OR_RETURN(const uint64_t cache_key,
                           PackedKey(key.indicator_id(), key.unit_code(), key.area_code(),
                                     key.year(), key.sex(), key.residence()));
  if (complete_) {
    return Add(cache_key, KeyState());  // the key's entry, or a new key's
  }
  if (auto it = index_.find(Packed{cache_key}); it != index_.end()) {
    return &blocks_[*it / kBlockEntries][*it % kBlockEntries].state;
  }
  // Incomplete directory: read the committed state (nothing of this group
  // has touched the key, so what the query sees is committed).
  if (!select_current_.prepared()) {
    HALFSKY_RETURN_IF_ERROR(select_current_.Prepare(
        *db_,
        absl::StrCat("SELECT k.key_id, r.revision, r.data_value, r.sequence, r.withdrawn",
                     kCurrentRevisionJoin,
                     " WHERE k.indicator_id = ?1 AND k.area_code = ?2 AND k.year = ?3 AND "
                     "k.sex = ?4 AND k.residence = ?5 AND k.unit_code = ?6"),
        /*persistent=*/true));
  }
  select_current_.Bind(1, key.indicator_id());
  select_current_.Bind(2, key.area_code());
  select_current_.Bind(3, key.year());
  select_current_.Bind(4, key.sex());
  select_current_.Bind(5, key.residence());
  select_current_.Bind(6, key.unit_code());
  absl::StatusOr<int> step = select_current_.Step();
  if (!step.ok()) {
    select_current_.Reset();
    return step.status();
  }
  KeyState loaded;
  if (*step == SQLITE_ROW) {
    loaded.key_id = select_current_.Int(0);
    loaded.revision = static_cast<int32_t>(select_current_.Int(1));
    loaded.digest = Digest(EncodedWithUnit(select_current_.Text(2), key.unit_code()));
    loaded.sequence = select_current_.Int(3);
    loaded.withdrawn = select_current_.Int(4) != 0;
  }
  select_current_.Reset();
  return Add(cache_key, loaded);
}

}  // namespace halfsky::submission
