// CatalogServiceImpl over a real gRPC server on loopback.

#include "common/catalog/catalog_service.h"

#include <memory>
#include <string>

#include "common/catalog/catalog.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/catalog.grpc.pb.h"

namespace halfsky {
namespace {

class CatalogServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = CatalogIndex::Load({std::string(HALFSKY_SOURCE_DIR) + "/deploy/catalog"});
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    index_ = *loaded;
    service_ = std::make_unique<CatalogServiceImpl>(index_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    stub_ = v1::CatalogService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                            grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown();
    }
  }

  grpc::Status Get(const std::string& domain, v1::GetCatalogResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::GetCatalogRequest request;
    request.set_domain_id(domain);
    return stub_->GetCatalog(&context, request, response);
  }

  std::shared_ptr<const CatalogIndex> index_;
  std::unique_ptr<CatalogServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::CatalogService::Stub> stub_;
};

TEST_F(CatalogServiceTest, ReturnsTheWholeCatalogAndItsFingerprint) {
  v1::GetCatalogResponse response;
  grpc::Status status = Get("", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.fingerprint(), index_->fingerprint());
  EXPECT_EQ(response.fingerprint().size(), 64u);
  EXPECT_EQ(response.catalog().SerializeAsString(), index_->catalog().SerializeAsString());
  EXPECT_EQ(response.catalog().domains_size(), 8);
  EXPECT_EQ(response.catalog().objectives_size(), 72);
}

TEST_F(CatalogServiceTest, FiltersByDomain) {
  v1::GetCatalogResponse response;
  grpc::Status status = Get("HEALTH", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.catalog().domains_size(), 1);
  EXPECT_EQ(response.catalog().domains(0).id(), "HEALTH");
  EXPECT_EQ(response.catalog().objectives_size(), 9);
  EXPECT_GT(response.catalog().indicators_size(), 0);
  for (const auto& i : response.catalog().indicators()) {
    EXPECT_EQ(i.domain_id(), "HEALTH") << i.id();
  }
  // Units, areas and calendar stay whole; the fingerprint is the whole
  // catalog's.
  EXPECT_EQ(response.catalog().member_units_size(), index_->catalog().member_units_size());
  EXPECT_EQ(response.catalog().areas_size(), index_->catalog().areas_size());
  EXPECT_TRUE(response.catalog().has_calendar());
  EXPECT_EQ(response.fingerprint(), index_->fingerprint());
}

TEST_F(CatalogServiceTest, UnknownDomainIsNotFound) {
  v1::GetCatalogResponse response;
  grpc::Status status = Get("SPORTS", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("SPORTS"), std::string::npos);
}

}  // namespace
}  // namespace halfsky
