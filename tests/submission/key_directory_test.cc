// KeyDirectory on a real SQLite file migrated to the submission schema:
// loading every committed key, keys that must not alias, new keys, the
// one-by-one lookup of an incomplete directory, and the re-encoding of a
// narrative stored before keys carried their unit.

#include "services/submission/key_directory.h"

#include <sqlite3.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/proto/serialize.h"
#include "common/sqlite/sqlite.h"
#include "gtest/gtest.h"
#include "services/submission/sqlite_schema.h"
#include "tests/submission/test_util.h"
#include "tests/support/process.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;
using ::halfsky::submission::testing::Number;
using ::halfsky::submission::testing::Story;

class KeyDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = sqlite::Database::Open(halfsky::testing::MakeTempDir("key-directory") + "/s.db");
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(MigrateSubmissionSchema(db_).ok());
  }

  // Commits one key with `revisions` revisions (the last current); its
  // unit_code in data_keys is the key's. Returns the head's sequence.
  int64_t AddKey(int64_t key_id, const v1::DataValue& value, int revisions, bool withdrawn = false,
                 const std::string& stored_unit = "") {
    const v1::DataKey& k = value.key();
    sqlite::Statement key;
    EXPECT_TRUE(key.Prepare(db_,
                            "INSERT INTO data_keys(key_id, indicator_id, area_code, year, sex, "
                            "residence, unit_code) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                    .ok());
    key.Bind(1, key_id);
    key.Bind(2, k.indicator_id());
    key.Bind(3, k.area_code());
    key.Bind(4, static_cast<int64_t>(k.year()));
    key.Bind(5, static_cast<int64_t>(k.sex()));
    key.Bind(6, static_cast<int64_t>(k.residence()));
    key.Bind(7, stored_unit.empty() ? k.unit_code() : stored_unit);
    EXPECT_TRUE(key.Run().ok());
    const std::string encoded = DeterministicBytes(value);
    int64_t prev = 0;
    for (int rev = 1; rev <= revisions; ++rev) {
      const int64_t seq = next_sequence_++;
      sqlite::Statement r;
      EXPECT_TRUE(r.Prepare(db_,
                            "INSERT INTO revisions(sequence, key_id, revision, prev_sequence, "
                            "data_value, submitted_by, unit_code, committed_at_us, request_id, "
                            "withdrawn) VALUES(?1, ?2, ?3, ?4, ?5, 'stats', '', 0, 'r', ?6)")
                      .ok());
      r.Bind(1, seq);
      r.Bind(2, key_id);
      r.Bind(3, static_cast<int64_t>(rev));
      r.Bind(4, prev);
      r.BindBlob(5, encoded);
      r.Bind(6, static_cast<int64_t>(withdrawn && rev == revisions ? 1 : 0));
      EXPECT_TRUE(r.Run().ok());
      prev = seq;
    }
    EXPECT_TRUE(db_.Exec(absl::StrCat("INSERT INTO key_heads(key_id, revision, sequence) VALUES(",
                                      key_id, ", ", revisions, ", ", prev, ")"))
                    .ok());
    return prev;
  }

  sqlite::Database db_;
  int64_t next_sequence_ = 1;
};

v1::DataValue WithSex(v1::DataValue v, v1::Sex sex) {
  v.mutable_key()->set_sex(sex);
  v.mutable_key()->set_residence(v1::RESIDENCE_ALL);
  return v;
}

TEST_F(KeyDirectoryTest, LoadsEveryCommittedKeyWithoutAliasing) {
  const v1::DataValue male = WithSex(Number("HEALTH-03", 2024, 3), v1::SEX_MALE);
  const v1::DataValue female = WithSex(Number("HEALTH-03", 2024, 4), v1::SEX_FEMALE);
  const v1::DataValue story1 = WithSex(Story("HEALTH-03", 2024, "一", "U1"), v1::SEX_TOTAL);
  const v1::DataValue story2 = WithSex(Story("HEALTH-03", 2024, "二", "U2"), v1::SEX_TOTAL);
  const v1::DataValue figure_all = WithSex(Number("HEALTH-03", 2024, 5), v1::SEX_TOTAL);
  AddKey(1, male, 1);
  const int64_t female_head = AddKey(2, female, 3);
  AddKey(3, story1, 1);
  AddKey(4, story2, 2, /*withdrawn=*/true);
  AddKey(5, figure_all, 1);

  KeyDirectory dir(&db_);
  ASSERT_TRUE(dir.Load().ok());
  EXPECT_TRUE(dir.complete());
  EXPECT_EQ(dir.size(), 5u);

  auto f = dir.Find(female.key());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->key_id, 2);
  EXPECT_EQ((*f)->revision, 3);
  EXPECT_EQ((*f)->sequence, female_head);
  EXPECT_EQ((*f)->digest, KeyDirectory::Digest(DeterministicBytes(female)));
  EXPECT_FALSE((*f)->withdrawn);

  // The figure and the two units' narratives of one indicator, area, year
  // and sex are three keys.
  int64_t ids[3];
  const v1::DataValue* same_cell[] = {&figure_all, &story1, &story2};
  for (int i = 0; i < 3; ++i) {
    auto s = dir.Find(same_cell[i]->key());
    ASSERT_TRUE(s.ok()) << s.status();
    ids[i] = (*s)->key_id;
  }
  EXPECT_EQ(ids[0], 5);
  EXPECT_EQ(ids[1], 3);
  EXPECT_EQ(ids[2], 4);
  auto w = dir.Find(story2.key());
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE((*w)->withdrawn);
  EXPECT_EQ((*w)->revision, 2);
  EXPECT_EQ(dir.size(), 5u);  // finding loaded keys adds nothing
}

TEST_F(KeyDirectoryTest, NewKeyStartsAtRevisionZeroAndIsRemembered) {
  AddKey(1, WithSex(Number("HEALTH-03", 2024, 3), v1::SEX_TOTAL), 1);
  KeyDirectory dir(&db_);
  ASSERT_TRUE(dir.Load().ok());
  const v1::DataValue fresh = WithSex(Number("HEALTH-03", 2025, 3, "610304"), v1::SEX_TOTAL);
  auto s = dir.Find(fresh.key());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->revision, 0);
  EXPECT_EQ((*s)->key_id, 0);
  EXPECT_EQ(dir.size(), 2u);
  // The committer updates the entry in place; the next Find sees it.
  (*s)->key_id = 9;
  (*s)->revision = 1;
  auto again = dir.Find(fresh.key());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *s);
  EXPECT_EQ((*again)->key_id, 9);
  EXPECT_EQ(dir.size(), 2u);

  // A reload forgets what was never committed.
  ASSERT_TRUE(dir.Load().ok());
  EXPECT_EQ(dir.size(), 1u);
  auto reloaded = dir.Find(fresh.key());
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ((*reloaded)->revision, 0);
}

// Entries live in blocks that never move: a pointer Find returned stays
// valid while many more keys are added (past several blocks and several
// growths of the index), and every key keeps its own entry.
TEST_F(KeyDirectoryTest, EntriesStayPutAndDistinctWhileTheDirectoryGrows) {
  AddKey(1, WithSex(Number("HEALTH-03", 2024, 3), v1::SEX_TOTAL), 1);
  KeyDirectory dir(&db_);
  ASSERT_TRUE(dir.Load().ok());
  const v1::DataValue first = WithSex(Number("HEALTH-03", 2024, 3), v1::SEX_TOTAL);
  auto kept = dir.Find(first.key());
  ASSERT_TRUE(kept.ok());
  KeyDirectory::KeyState* const first_state = *kept;
  EXPECT_EQ(first_state->key_id, 1);

  // 100 areas x 11 years x 3 sexes x 3 residences x 10 indicators = 99 000
  // new keys, each marked with its own number.
  constexpr int kIndicators = 10, kAreas = 100;
  std::vector<KeyDirectory::KeyState*> states;
  v1::DataKey key;
  int64_t n = 0;
  auto each_key = [&](auto fn) {
    for (int i = 0; i < kIndicators; ++i) {
      for (int a = 0; a < kAreas; ++a) {
        for (int y = 2020; y <= 2030; ++y) {
          for (int sx = 1; sx <= 3; ++sx) {
            for (int r = 1; r <= 3; ++r) {
              key.set_indicator_id(absl::StrCat("IND-", i));
              key.set_area_code(absl::StrCat("6103", 100 + a));
              key.set_year(y);
              key.set_sex(static_cast<v1::Sex>(sx));
              key.set_residence(static_cast<v1::Residence>(r));
              fn();
            }
          }
        }
      }
    }
  };
  each_key([&] {
    auto s = dir.Find(key);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ((*s)->revision, 0);
    (*s)->key_id = 1000 + n++;
    states.push_back(*s);
  });
  ASSERT_EQ(n, 99000);
  EXPECT_EQ(dir.size(), 99001u);
  // The first key's entry did not move and was not overwritten.
  auto again = dir.Find(first.key());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, first_state);
  EXPECT_EQ(first_state->key_id, 1);
  // Every new key finds its own entry, at the address it was given.
  n = 0;
  each_key([&] {
    auto s = dir.Find(key);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(*s, states[static_cast<size_t>(n)]);
    EXPECT_EQ((*s)->key_id, 1000 + n);
    ++n;
  });
  EXPECT_EQ(dir.size(), 99001u);
}

TEST_F(KeyDirectoryTest, IncompleteDirectoryLooksKeysUpOneByOne) {
  const v1::DataValue a = WithSex(Number("HEALTH-03", 2024, 3), v1::SEX_TOTAL);
  const v1::DataValue b = WithSex(Number("HEALTH-03", 2023, 7), v1::SEX_TOTAL);
  AddKey(1, a, 2);
  AddKey(2, b, 1);
  KeyDirectory dir(&db_);
  ASSERT_TRUE(dir.Load().ok());

  // A failed load leaves the directory empty and incomplete.
  ASSERT_TRUE(db_.Exec("ALTER TABLE key_heads RENAME TO key_heads_away").ok());
  EXPECT_FALSE(dir.Load().ok());
  EXPECT_FALSE(dir.complete());
  EXPECT_EQ(dir.size(), 0u);
  ASSERT_TRUE(db_.Exec("ALTER TABLE key_heads_away RENAME TO key_heads").ok());

  auto found = dir.Find(a.key());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ((*found)->key_id, 1);
  EXPECT_EQ((*found)->revision, 2);
  EXPECT_EQ((*found)->digest, KeyDirectory::Digest(DeterministicBytes(a)));
  EXPECT_EQ(dir.size(), 1u);  // only what was looked up
  const v1::DataValue unknown = WithSex(Number("HEALTH-03", 2022, 1), v1::SEX_TOTAL);
  auto none = dir.Find(unknown.key());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ((*none)->revision, 0);

  // A failing lookup is reported, not taken for a new key.
  ASSERT_TRUE(db_.Exec("ALTER TABLE key_heads RENAME TO key_heads_away").ok());
  auto failed = dir.Find(b.key());
  EXPECT_FALSE(failed.ok());
  ASSERT_TRUE(db_.Exec("ALTER TABLE key_heads_away RENAME TO key_heads").ok());

  ASSERT_TRUE(dir.Load().ok());
  EXPECT_TRUE(dir.complete());
  EXPECT_EQ(dir.size(), 2u);
}

TEST_F(KeyDirectoryTest, NarrativeStoredWithoutItsUnitIsReencodedWithIt) {
  // Before migration 4 a narrative's stored DataValue had no unit_code;
  // data_keys carries it.
  v1::DataValue old = WithSex(Story("GOAL-01", 2024, "旧", ""), v1::SEX_TOTAL);
  AddKey(1, old, 1, /*withdrawn=*/false, /*stored_unit=*/"U7");
  KeyDirectory dir(&db_);
  ASSERT_TRUE(dir.Load().ok());
  v1::DataValue now = old;
  now.mutable_key()->set_unit_code("U7");
  auto s = dir.Find(now.key());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->key_id, 1);
  EXPECT_EQ((*s)->digest, KeyDirectory::Digest(DeterministicBytes(now)));
  EXPECT_NE((*s)->digest, KeyDirectory::Digest(DeterministicBytes(old)));
}

}  // namespace
}  // namespace halfsky::submission
