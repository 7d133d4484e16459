// A whole cluster over TLS (backend, two frontends with mutual TLS on
// their peer plane, the bard, the client), with a CA and certificates made
// by openssl for the test; and what a plaintext client is told.
#include "common/tls.h"

#include <grpcpp/grpcpp.h>
#include <sys/wait.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"
#include "podium/v1/peer.grpc.pb.h"

namespace podium::test {
namespace {

using ::testing::HasSubstr;

// Runs a command (argv[0] looked up on PATH); its exit status and output.
std::pair<int, std::string> RunCommand(const std::string& dir, std::vector<std::string> argv) {
  argv.insert(argv.begin(), "/usr/bin/env");
  const std::string log = dir + "/run.out";
  std::remove(log.c_str());
  absl::StatusOr<harness::Subprocess> process = harness::Subprocess::Start(argv, log);
  if (!process.ok()) return {-1, std::string(process.status().message())};
  absl::StatusOr<int> status = process->Wait(absl::Seconds(60));
  if (!status.ok()) return {-1, harness::ReadFileOrEmpty(log)};
  return {WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, harness::ReadFileOrEmpty(log)};
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A CA, and one certificate for every process of the cluster, for
    // 127.0.0.1, good for serving and for calling (as scripts/run --tls).
    const std::string d = dir_.path();
    ASSERT_EQ(RunCommand(d, {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                             d + "/ca.key", "-out", d + "/ca.pem", "-days", "2", "-subj",
                             "/CN=Podium test CA"})
                  .first,
              0);
    ASSERT_EQ(RunCommand(d, {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout",
                             d + "/node.key", "-out", d + "/node.csr", "-subj", "/CN=podium"})
                  .first,
              0);
    std::ofstream(d + "/ext.cnf") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                     "extendedKeyUsage=serverAuth,clientAuth\n";
    ASSERT_EQ(RunCommand(d, {"openssl", "x509", "-req", "-in", d + "/node.csr", "-CA",
                             d + "/ca.pem", "-CAkey", d + "/ca.key", "-CAcreateserial", "-out",
                             d + "/node.pem", "-days", "2", "-extfile", d + "/ext.cnf"})
                  .first,
              0);
    tls_flags_ = {"--tls_cert=" + d + "/node.pem", "--tls_key=" + d + "/node.key",
                  "--tls_ca=" + d + "/ca.pem"};
    // This process talks TLS too (health checks, stubs).
    ASSERT_TRUE(ConfigureTls({d + "/node.pem", d + "/node.key", d + "/ca.pem"}).ok());
  }
  void TearDown() override { ConfigureTls({}).IgnoreError(); }

  harness::ScopedTempDir dir_;
  std::vector<std::string> tls_flags_;
};

TEST_F(TlsTest, AClusterRunsOverTlsAndAPlaintextClientIsToldWhy) {
  harness::BackendProcess backend(dir_.path(), tls_flags_);
  ASSERT_TRUE(backend.Start().ok()) << backend.log();
  harness::FrontendCluster frontends(dir_.path(), backend.address(), 2, "push", tls_flags_);
  ASSERT_TRUE(frontends.StartAll().ok()) << frontends.log(0);
  const int master = frontends.HighestPid();
  ASSERT_TRUE(frontends.WaitForMaster(frontends.address(master), absl::Seconds(15)).ok())
      << frontends.log(master);

  // The bard writes over TLS; the member serves it pushed over mutual TLS.
  std::vector<std::string> bard = {harness::BinaryPath("bard/podium-bard"),
                                   "--backend=" + backend.address(),
                                   "--write_token_file=" + backend.token_file()};
  bard.insert(bard.end(), tls_flags_.begin(), tls_flags_.end());
  bard.insert(bard.end(), {"set-score", "javelin", "Gauls=7"});
  auto [code, output] = RunCommand(dir_.path(), bard);
  ASSERT_EQ(code, 0) << output;
  const int member = 1 - master;
  std::vector<std::string> client = {harness::BinaryPath("client/podium-client"),
                                     "--frontends=" + frontends.address(member),
                                     "--tls_ca=" + dir_.path() + "/ca.pem", "get-score", "javelin"};
  std::tie(code, output) = RunCommand(dir_.path(), client);
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("Gauls 7"));

  // Without --tls_ca the client is refused, and told what to do.
  client.erase(client.begin() + 2);
  std::tie(code, output) = RunCommand(dir_.path(), client);
  EXPECT_EQ(code, 1) << output;
  EXPECT_THAT(output, HasSubstr("if the cluster runs TLS, give --tls_ca"));

  // The peer plane wants a certificate: a caller with the right token but
  // none is refused in the handshake.
  grpc::SslCredentialsOptions no_certificate;
  no_certificate.pem_root_certs = harness::ReadFileOrEmpty(dir_.path() + "/ca.pem");
  auto peer = v1::FrontendPeer::NewStub(
      grpc::CreateChannel(frontends.peer_address(member), grpc::SslCredentials(no_certificate)));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  AddBearerToken(&context, harness::FrontendCluster::cluster_token());
  v1::PingRequest ping;
  v1::PingReply pong;
  const grpc::Status refused = peer->Ping(&context, ping, &pong);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(pong.master(), "");
  // The same call with the certificate is answered: the port was up, and
  // what was missing was the certificate.
  auto member_peer = v1::FrontendPeer::NewStub(
      grpc::CreateChannel(frontends.peer_address(member), ChannelCredentials()));
  grpc::ClientContext with_certificate;
  with_certificate.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  AddBearerToken(&with_certificate, harness::FrontendCluster::cluster_token());
  const grpc::Status answered = member_peer->Ping(&with_certificate, ping, &pong);
  EXPECT_TRUE(answered.ok()) << answered.error_message();
  EXPECT_EQ(pong.master(), frontends.peer_address(master));
}

}  // namespace
}  // namespace podium::test
