# Compiles protos/ into the podium_protos library (messages and gRPC stubs).
set(PODIUM_PROTO_DIR ${CMAKE_SOURCE_DIR}/protos)
set(PODIUM_PROTO_OUT ${CMAKE_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${PODIUM_PROTO_OUT})

set(PODIUM_PROTOS
  podium/v1/types.proto
  podium/v1/backend.proto
  podium/v1/scoreboard.proto
  podium/v1/peer.proto
  podium/store/etcd_records.proto
  grpc/health/v1/health.proto
  etcd/api/mvccpb/kv.proto
  etcd/api/etcdserverpb/rpc.proto
)

get_target_property(PODIUM_GRPC_PLUGIN gRPC::grpc_cpp_plugin LOCATION)
set(PODIUM_PROTO_SRCS)
foreach(proto ${PODIUM_PROTOS})
  string(REGEX REPLACE "\\.proto$" "" base ${proto})
  set(outs
    ${PODIUM_PROTO_OUT}/${base}.pb.cc ${PODIUM_PROTO_OUT}/${base}.pb.h
    ${PODIUM_PROTO_OUT}/${base}.grpc.pb.cc ${PODIUM_PROTO_OUT}/${base}.grpc.pb.h)
  add_custom_command(
    OUTPUT ${outs}
    COMMAND protobuf::protoc
      --proto_path=${PODIUM_PROTO_DIR}
      --cpp_out=${PODIUM_PROTO_OUT}
      --grpc_out=${PODIUM_PROTO_OUT}
      --plugin=protoc-gen-grpc=${PODIUM_GRPC_PLUGIN}
      ${PODIUM_PROTO_DIR}/${proto}
    DEPENDS ${PODIUM_PROTO_DIR}/${proto} protobuf::protoc gRPC::grpc_cpp_plugin
    COMMENT "protoc ${proto}")
  list(APPEND PODIUM_PROTO_SRCS ${outs})
endforeach()

add_library(podium_protos STATIC ${PODIUM_PROTO_SRCS})
target_include_directories(podium_protos PUBLIC ${PODIUM_PROTO_OUT})
target_link_libraries(podium_protos PUBLIC protobuf::libprotobuf gRPC::grpc++)
