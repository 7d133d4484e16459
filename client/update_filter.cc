#include "client/update_filter.h"

#include <algorithm>

#include "common/keys.h"

namespace podium {

bool UpdateFilter::Admit(const v1::SubscribeUpdate& update,
                         StreamCursor* cursor) {
  const v1::Change& change = update.change();
  if (change.value_case() == v1::Change::VALUE_NOT_SET) {
    ++dropped_;
    return false;
  }
  if (!update.snapshot()) {
    cursor->covered = std::max(cursor->covered, change.seq());
    resume_seq_ = std::max(resume_seq_, cursor->covered);
  }
  // A key never delivered takes any version, 0 included: a snapshot's
  // never-written events are values too.
  auto [it, inserted] = versions_.try_emplace(ChangeKey(change), change.seq());
  if (!inserted) {
    if (change.seq() <= it->second) {
      ++dropped_;
      return false;
    }
    it->second = change.seq();
  }
  ++delivered_;
  return true;
}

std::optional<int64_t> UpdateFilter::last_version(const std::string& key) const {
  auto it = versions_.find(key);
  if (it == versions_.end()) return std::nullopt;
  return it->second;
}

}  // namespace podium
