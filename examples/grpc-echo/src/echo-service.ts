// The gRPC echo service's contract, written by hand (no .proto loading at run time).

// package trellis.examples.echo.v1;
// service EchoService {
//   rpc Echo(EchoRequest) returns (EchoResponse);
//   rpc StreamEcho(EchoRequest) returns (stream EchoResponse);
// }
// message EchoRequest  { string message = 1; int32 count = 2; int32 interval_ms = 3; int32 fail_code = 4; }
// message EchoResponse { string message = 1; string hostname = 2; string version = 3; int32 index = 4; }

import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { ServiceDefinition } from '@grpc/grpc-js';

export const ECHO_SERVICE_NAME = 'trellis.examples.echo.v1.EchoService';
/** What AuthorizationPolicy `paths` and VirtualService `uri` matches see for each method. */
export const ECHO_PATH = `/${ECHO_SERVICE_NAME}/Echo`;
export const STREAM_ECHO_PATH = `/${ECHO_SERVICE_NAME}/StreamEcho`;

export interface EchoRequest {
  message: string;
  /** StreamEcho: how many responses to send (at least 1). */
  count: number;
  /** StreamEcho: pause between responses. */
  intervalMs: number;
  /** When non-zero, the server fails the call with this gRPC status code instead of answering. */
  failCode: number;
}

export interface EchoResponse {
  message: string;
  /** The pod that answered. */
  hostname: string;
  /** SERVICE_VERSION of the pod that answered, e.g. `v1`. */
  version: string;
  /** Position in a stream, from 0. */
  index: number;
}

export function encodeEchoRequest(m: Partial<EchoRequest>): Buffer {
  const w = new BinaryWriter();
  if (m.message) w.tag(1, WireType.LengthDelimited).string(m.message);
  if (m.count) w.tag(2, WireType.Varint).int32(m.count);
  if (m.intervalMs) w.tag(3, WireType.Varint).int32(m.intervalMs);
  if (m.failCode) w.tag(4, WireType.Varint).int32(m.failCode);
  return Buffer.from(w.finish());
}

export function decodeEchoRequest(bytes: Uint8Array): EchoRequest {
  const m: EchoRequest = { message: '', count: 0, intervalMs: 0, failCode: 0 };
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) m.message = r.string();
    else if (field === 2 && wireType === WireType.Varint) m.count = r.int32();
    else if (field === 3 && wireType === WireType.Varint) m.intervalMs = r.int32();
    else if (field === 4 && wireType === WireType.Varint) m.failCode = r.int32();
    else r.skip(wireType, field);
  }
  return m;
}

export function encodeEchoResponse(m: Partial<EchoResponse>): Buffer {
  const w = new BinaryWriter();
  if (m.message) w.tag(1, WireType.LengthDelimited).string(m.message);
  if (m.hostname) w.tag(2, WireType.LengthDelimited).string(m.hostname);
  if (m.version) w.tag(3, WireType.LengthDelimited).string(m.version);
  if (m.index) w.tag(4, WireType.Varint).int32(m.index);
  return Buffer.from(w.finish());
}

export function decodeEchoResponse(bytes: Uint8Array): EchoResponse {
  const m: EchoResponse = { message: '', hostname: '', version: '', index: 0 };
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) m.message = r.string();
    else if (field === 2 && wireType === WireType.LengthDelimited) m.hostname = r.string();
    else if (field === 3 && wireType === WireType.LengthDelimited) m.version = r.string();
    else if (field === 4 && wireType === WireType.Varint) m.index = r.int32();
    else r.skip(wireType, field);
  }
  return m;
}

const serializers = {
  requestSerialize: (m: Partial<EchoRequest>) => encodeEchoRequest(m),
  requestDeserialize: (b: Buffer) => decodeEchoRequest(b),
  responseSerialize: (m: Partial<EchoResponse>) => encodeEchoResponse(m),
  responseDeserialize: (b: Buffer) => decodeEchoResponse(b),
};

/** For `server.addService` and `makeGenericClientConstructor`. */
export const echoServiceDefinition = {
  echo: {
    path: ECHO_PATH,
    requestStream: false,
    responseStream: false,
    originalName: 'Echo',
    ...serializers,
  },
  streamEcho: {
    path: STREAM_ECHO_PATH,
    requestStream: false,
    responseStream: true,
    originalName: 'StreamEcho',
    ...serializers,
  },
} satisfies ServiceDefinition;
