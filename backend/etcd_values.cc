#include "backend/etcd_values.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace podium {

void StampRevision(v1::Change* change, int64_t revision) {
  change->set_seq(revision);
  if (change->has_event()) change->mutable_event()->set_version(revision);
  if (change->has_medals()) change->mutable_medals()->set_version(revision);
  if (change->has_fans()) {
    change->mutable_fans()->set_version(revision);
    // A post is stored before its transaction has a revision: its id is
    // that revision, learnt here (older posts carry theirs already).
    for (v1::FanPost& post : *change->mutable_fans()->mutable_posts()) {
      if (post.id() == 0) post.set_id(revision);
    }
  }
}

absl::StatusOr<v1::Change> DecodeValue(const mvccpb::KeyValue& kv) {
  v1::Change change;
  if (!change.ParseFromString(kv.value()) || change.value_case() == v1::Change::VALUE_NOT_SET) {
    return absl::DataLossError(
        absl::StrCat("etcd key '", kv.key(), "' (revision ", kv.mod_revision(),
                     ") does not hold a Podium value: was it written by something else?"));
  }
  StampRevision(&change, kv.mod_revision());
  return change;
}

std::string EtcdAddresses(const EtcdClient& etcd) {
  std::vector<std::string> addresses;
  for (size_t i = 0; i < etcd.size(); ++i) addresses.push_back(etcd.member(i).address);
  return absl::StrJoin(addresses, ", ");
}

}  // namespace podium
