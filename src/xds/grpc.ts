// gRPC service definitions for @grpc/grpc-js, built from the generated descriptors (no proto-loader at run time).

import { type DescService, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { ServiceDefinition } from '@grpc/grpc-js';

/** A grpc-js ServiceDefinition whose handler names are the methods' localName (e.g. `streamAggregatedResources`). */
export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  const def: Record<string, unknown> = {};
  for (const method of service.methods) {
    def[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: (m: never) => Buffer.from(toBinary(method.input, m)),
      requestDeserialize: (b: Buffer) => fromBinary(method.input, b),
      responseSerialize: (m: never) => Buffer.from(toBinary(method.output, m)),
      responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
      originalName: method.name,
    };
  }
  return def as ServiceDefinition;
}
