#include "backend/etcd_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/channel.h"
#include "glog/logging.h"

namespace podium {

std::string EtcdPrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Connect(const std::string& endpoints,
                                                                absl::Duration call_timeout) {
  std::vector<EtcdMember> members;
  for (absl::string_view part : absl::StrSplit(endpoints, ',', absl::SkipWhitespace())) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(part);
    absl::ConsumePrefix(&trimmed, "http://");
    const std::string address(trimmed);
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("etcd endpoint '", address, "' is not host:port (e.g. 127.0.0.1:2379)"));
    }
    // Pings find a member whose host vanished (no reset ever comes) while
    // a call is on it; etcd refuses pings more often than every 5 s
    // (--grpc-keepalive-min-time) and between calls.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 3'000);
    std::shared_ptr<grpc::Channel> channel =
        CreateFastReconnectChannel(address, absl::Seconds(1), args);
    EtcdMember member;
    member.address = address;
    member.kv = etcdserverpb::KV::NewStub(channel);
    member.watch = etcdserverpb::Watch::NewStub(channel);
    member.lease = etcdserverpb::Lease::NewStub(channel);
    member.maintenance = etcdserverpb::Maintenance::NewStub(channel);
    members.push_back(std::move(member));
  }
  if (members.empty()) {
    return absl::InvalidArgumentError(
        "no etcd endpoints given: pass --etcd=HOST:PORT[,HOST:PORT...], one per member");
  }
  return std::make_unique<EtcdClient>(std::move(members), call_timeout);
}

EtcdClient::EtcdClient(std::vector<EtcdMember> members, absl::Duration call_timeout)
    : members_(std::move(members)),
      call_timeout_(call_timeout),
      completions_([this] { CompletionLoop(); }) {}

EtcdClient::~EtcdClient() {
  cq_.Shutdown();
  completions_.join();
}

void EtcdClient::Demote(size_t index) {
  size_t expected = index;
  const size_t next = (index + 1) % members_.size();
  if (preferred_.compare_exchange_strong(expected, next) && members_.size() > 1) {
    LOG(WARNING) << "etcd member " << members_[index].address << " failed a call; moving to "
                 << members_[next].address;
  }
}

bool EtcdClient::TryAnother(const grpc::Status& status) {
  // UNAVAILABLE: unreachable, no leader, or a request timed out inside
  // etcd; DEADLINE_EXCEEDED: a member cut off from the others holds calls
  // until they expire.
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

std::unique_ptr<grpc::ClientContext> EtcdClient::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + call_timeout_));
  // etcd's own client sends this, so that a member without a leader
  // refuses at once instead of holding the call.
  context->AddMetadata("hasleader", "true");
  return context;
}

template <typename Call>
grpc::Status EtcdClient::OnEachMember(Call call) {
  grpc::Status status;
  for (size_t tries = 0; tries < members_.size(); ++tries) {
    const size_t index = preferred();
    std::unique_ptr<grpc::ClientContext> context = NewContext();
    status = call(members_[index], context.get());
    if (status.ok() || !TryAnother(status)) return status;
    Demote(index);
  }
  return status;
}

grpc::Status EtcdClient::Range(const etcdserverpb::RangeRequest& request,
                               etcdserverpb::RangeResponse* response) {
  return OnEachMember([&](EtcdMember& m, grpc::ClientContext* context) {
    return m.kv->Range(context, request, response);
  });
}

grpc::Status EtcdClient::Txn(const etcdserverpb::TxnRequest& request,
                             etcdserverpb::TxnResponse* response) {
  return OnEachMember([&](EtcdMember& m, grpc::ClientContext* context) {
    return m.kv->Txn(context, request, response);
  });
}

grpc::Status EtcdClient::Compact(const etcdserverpb::CompactionRequest& request,
                                 etcdserverpb::CompactionResponse* response) {
  return OnEachMember([&](EtcdMember& m, grpc::ClientContext* context) {
    return m.kv->Compact(context, request, response);
  });
}

grpc::Status EtcdClient::LeaseGrant(const etcdserverpb::LeaseGrantRequest& request,
                                    etcdserverpb::LeaseGrantResponse* response) {
  return OnEachMember([&](EtcdMember& m, grpc::ClientContext* context) {
    return m.lease->LeaseGrant(context, request, response);
  });
}

struct EtcdClient::AsyncTxn {
  const etcdserverpb::TxnRequest* request;
  etcdserverpb::TxnResponse* response;
  std::function<void(grpc::Status)> done;
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientAsyncResponseReaderInterface<etcdserverpb::TxnResponse>> reader;
  grpc::Status status;
  size_t member = 0;
  size_t tries = 0;
};

void EtcdClient::TxnAsync(const etcdserverpb::TxnRequest* request,
                          etcdserverpb::TxnResponse* response,
                          std::function<void(grpc::Status)> done) {
  auto call = std::make_unique<AsyncTxn>();
  call->request = request;
  call->response = response;
  call->done = std::move(done);
  StartTxn(std::move(call));
}

void EtcdClient::StartTxn(std::unique_ptr<AsyncTxn> call) {
  call->member = preferred();
  call->context = NewContext();
  call->status = grpc::Status();
  ++call->tries;
  AsyncTxn* raw = call.release();  // owned by cq_ until CompletionLoop takes it
  raw->reader = members_[raw->member].kv->AsyncTxn(raw->context.get(), *raw->request, &cq_);
  raw->reader->Finish(raw->response, &raw->status, raw);
}

void EtcdClient::CompletionLoop() {
  void* tag = nullptr;
  bool ok = false;
  while (cq_.Next(&tag, &ok)) {
    std::unique_ptr<AsyncTxn> call(static_cast<AsyncTxn*>(tag));
    call->reader.reset();
    if (!call->status.ok() && TryAnother(call->status) && call->tries < members_.size()) {
      Demote(call->member);
      call->response->Clear();
      StartTxn(std::move(call));
      continue;
    }
    std::function<void(grpc::Status)> done = std::move(call->done);
    grpc::Status status = std::move(call->status);
    call.reset();  // the context goes before the answer: nothing of the call outlives it
    done(std::move(status));
  }
}

}  // namespace podium
