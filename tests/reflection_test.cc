// Every server registers gRPC server reflection, so standard tools
// (grpcurl, grpc_cli) can list and call its services. Debian ships the
// reflection service but not its client headers, so this asks the
// standard ListServices question with hand-encoded bytes over a generic
// stream and looks for the service names in the answer.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"

namespace podium::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// ServerReflectionRequest{list_services: "*"} (field 7, length-delimited).
std::string ListServicesRequest() { return std::string("\x3a\x01*", 3); }

// The raw answer to ListServices from the server at `address`.
std::string AskReflection(const std::string& address) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag;
  bool ok;
  auto step = [&](intptr_t expected) {
    return cq.Next(&tag, &ok) && ok && reinterpret_cast<intptr_t>(tag) == expected;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  if (!step(1)) return "start failed";
  grpc::Slice slice(ListServicesRequest());
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  if (!step(2)) return "write failed";
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(3));
  if (!step(3)) return "read failed";
  call->WritesDone(reinterpret_cast<void*>(4));
  step(4);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  std::vector<grpc::Slice> slices;
  response.Dump(&slices);
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return bytes;
}

TEST(ReflectionTest, BackendAndFrontendListTheirServices) {
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path());
  ASSERT_TRUE(backend.Start().ok()) << backend.log();
  harness::FrontendCluster frontends(dir.path(), backend.address(), 1, "push");
  ASSERT_EQ(frontends.StartAll(), absl::OkStatus());

  const std::string backend_services = AskReflection(backend.address());
  EXPECT_THAT(backend_services, HasSubstr("podium.v1.Backend"));
  EXPECT_THAT(backend_services, HasSubstr("grpc.health.v1.Health"));

  // The public port lists what the public may call; the peer plane is on
  // its own port.
  const std::string frontend_services = AskReflection(frontends.address(0));
  EXPECT_THAT(frontend_services, HasSubstr("podium.v1.Scoreboard"));
  EXPECT_THAT(frontend_services, Not(HasSubstr("podium.v1.FrontendPeer")));
  EXPECT_THAT(frontend_services, HasSubstr("grpc.health.v1.Health"));
  const std::string peer_services = AskReflection(frontends.peer_address(0));
  EXPECT_THAT(peer_services, HasSubstr("podium.v1.FrontendPeer"));
  EXPECT_THAT(peer_services, Not(HasSubstr("podium.v1.Scoreboard")));
}

}  // namespace
}  // namespace podium::test
