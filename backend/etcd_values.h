// How Podium's values sit in etcd: a v1::Change stored without its seq,
// which is the key's mod_revision.
#ifndef PODIUM_BACKEND_ETCD_VALUES_H_
#define PODIUM_BACKEND_ETCD_VALUES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "backend/etcd_client.h"
#include "etcd/api/mvccpb/kv.pb.h"
#include "podium/v1/types.pb.h"

namespace podium {

// Sets the change's seq and its value's version to `revision`.
void StampRevision(v1::Change* change, int64_t revision);

// The change a key-value of PREFIX/kv/ holds, stamped with its
// mod_revision. DATA_LOSS when the value does not parse.
absl::StatusOr<v1::Change> DecodeValue(const mvccpb::KeyValue& kv);

// "a, b, c": the members' addresses, for messages.
std::string EtcdAddresses(const EtcdClient& etcd);

}  // namespace podium

#endif  // PODIUM_BACKEND_ETCD_VALUES_H_
