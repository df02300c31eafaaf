#ifndef HALFSKY_SERVICES_SUBMISSION_KEY_DIRECTORY_H_
#define HALFSKY_SERVICES_SUBMISSION_KEY_DIRECTORY_H_

// The SQLite submission store's in-memory directory of every key's current
// state (key id, revision, sequence, a digest of the value, withdrawn), including
// the changes of the group in flight, so that the committer decides
// CREATED / REVISED / UNCHANGED without a query per value.
//
// Loaded whole from the database (Load), so a key not in it is new and
// needs no lookup query; the committer drops and reloads it when a group
// fails. If a load fails, the directory is incomplete and keys missing from
// it are looked up in the database one by one (Find) until a later Load
// succeeds. Memory is bounded by the number of distinct keys, which the
// catalog bounds (indicators x areas x years x 3 sexes x 3 residences):
// a 48-byte entry per key, stored in blocks that never move, and a 4-byte
// slot (plus a control byte) per slot of the index over them (8/7 to 16/7
// slots per key as the hash table fills and grows), whatever the value's
// size: 54-60 bytes per key. (A hash map of whole entries took 49 bytes
// per slot, 205 MB for 2·10^6 keys, and 1.5 times that while it grew, old
// and new table side by side; docs/BENCHMARKS.md.) The value is kept as a
// 128-bit digest (SHA-256, truncated) of its deterministic serialization,
// not the serialization itself (which made the directory ~250 bytes per
// key: 572 MB of RSS at 2·10^6 values, docs/BENCHMARKS.md); a changed value
// passing for unchanged would need a SHA-256 collision in 128 bits.
//
// Keys are packed into 64 bits: an interned (indicator, narrative unit)
// slot (unit "" for every figure), an interned area, year, sex and
// residence; interned names are never forgotten (bounded by the catalog).
//
// Thread-safety: thread-compatible (the committer thread only). The
// database connection is not owned and must outlive the directory.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/sqlite/sqlite.h"
#include "halfsky/v1/common.pb.h"

namespace halfsky::submission {

class KeyDirectory {
 public:
  // Digest() of a value's deterministic serialization.
  using ValueDigest = std::array<uint8_t, 16>;

  struct KeyState {
    int64_t key_id = 0;
    // Sequence of the current revision (0 when none).
    int64_t sequence = 0;
    // 0: the key has no revision (and no data_keys row) yet.
    int32_t revision = 0;
    // The current revision is a withdrawal (the key has no value).
    bool withdrawn = false;
    // Digest of the current DataValue's deterministic serialization
    // (with the narrative's unit, as the committer encodes it).
    ValueDigest digest{};
  };

  // The first 128 bits of SHA-256 over `encoded`.
  static ValueDigest Digest(absl::string_view encoded);

  // `db` (migrated to the submission schema) is read by Load and Find.
  explicit KeyDirectory(sqlite::Database* db) : db_(db) {}
  // Neither copyable nor movable: the index's hash and equality hold `this`.
  KeyDirectory(const KeyDirectory&) = delete;
  KeyDirectory& operator=(const KeyDirectory&) = delete;
  KeyDirectory(KeyDirectory&&) = delete;
  KeyDirectory& operator=(KeyDirectory&&) = delete;

  // Replaces the contents with every committed key. On error the
  // directory is left empty and incomplete (Find then looks keys up); the
  // error is the mapped SQLite status, or RESOURCE_EXHAUSTED (see Find).
  absl::Status Load();

  // The entry of `key` (normalized: unit_code set for narratives only).
  // A key without one gets an entry with revision 0 (a new key); when the
  // directory is incomplete the committed state is read from the database
  // first. The pointer stays valid until the next Load (entries never
  // move when others are added). Errors: the mapped
  // SQLite status of the lookup; RESOURCE_EXHAUSTED once more than 2^20
  // (indicator, unit) slots or areas were seen (the packing would alias
  // keys; catalogs have hundreds).
  absl::StatusOr<KeyState*> Find(const halfsky::v1::DataKey& key);

  // True when every committed key is in the directory.
  bool complete() const { return complete_; }
  // Number of entries (committed keys and keys of the group in flight).
  size_t size() const { return size_; }

 private:
  struct Entry {
    uint64_t packed = 0;  // PackedKey()
    KeyState state;
  };
  // Entry i is blocks_[i / kBlockEntries][i % kBlockEntries].
  static constexpr uint32_t kBlockEntries = 1u << 15;
  const Entry& EntryAt(uint32_t i) const { return blocks_[i / kBlockEntries][i % kBlockEntries]; }
  // The index holds entry numbers, hashed and compared by their packed key;
  // a lookup passes the packed key itself (a distinct type, so that it is
  // never taken for an entry number).
  struct Packed {
    uint64_t value;
  };
  struct IndexHash {
    using is_transparent = void;
    const KeyDirectory* dir;
    size_t operator()(uint32_t i) const { return (*this)(Packed{dir->EntryAt(i).packed}); }
    size_t operator()(Packed p) const { return absl::Hash<uint64_t>()(p.value); }
  };
  struct IndexEq {
    using is_transparent = void;
    const KeyDirectory* dir;
    uint64_t Of(uint32_t i) const { return dir->EntryAt(i).packed; }
    static uint64_t Of(Packed p) { return p.value; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Of(a) == Of(b);
    }
  };
  // The entry of `packed`: a new one holding `state`, or the one already
  // there (then overwritten with `state` when `replace`).
  KeyState* Add(uint64_t packed, const KeyState& state, bool replace = false);
  void Clear();

  absl::StatusOr<uint64_t> PackedKey(absl::string_view indicator_id, absl::string_view unit_code,
                                     absl::string_view area_code, int64_t year, int64_t sex,
                                     int64_t residence);

  sqlite::Database* const db_;
  // Looks one key up (prepared on first use).
  sqlite::Statement select_current_;
  std::vector<std::unique_ptr<Entry[]>> blocks_;
  uint32_t size_ = 0;
  absl::flat_hash_set<uint32_t, IndexHash, IndexEq> index_{0, IndexHash{this}, IndexEq{this}};
  bool complete_ = false;
  // Interned names of PackedKey(). Indicators and (indicator, unit) pairs
  // of narratives share one slot space: indicator_ids_ gives an
  // indicator's slot (that of its figures), narrative_slots_ maps
  // (indicator slot << 32 | interned unit) to the slot of that unit's
  // narratives.
  absl::flat_hash_map<std::string, uint32_t> indicator_ids_;
  absl::flat_hash_map<std::string, uint32_t> unit_ids_;
  absl::flat_hash_map<uint64_t, uint32_t> narrative_slots_;
  uint32_t next_indicator_slot_ = 0;
  absl::flat_hash_map<std::string, uint32_t> area_ids_;
};

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_KEY_DIRECTORY_H_
