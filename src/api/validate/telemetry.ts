// Telemetry: tracing, metrics and access logging overrides, with Istio's rules on providers and tags.

import {
  arrayOf,
  bool,
  enumOf,
  mapOf,
  num,
  object,
  opt,
  refine,
  report,
  req,
  type Schema,
  str,
} from '../schema/schema.js';
import type {
  AccessLoggingConfig,
  MetricsConfig,
  MetricsOverrides,
  ProviderRef,
  TelemetrySpec,
  TracingConfig,
} from '../types/telemetry.js';
import { duration, labelSelector, targetRef } from './common.js';

const MODES = ['CLIENT_AND_SERVER', 'CLIENT', 'SERVER'] as const;

const providers = () => arrayOf(object<ProviderRef>({ name: req(str({ nonEmpty: true })) }));
const modeMatch = () => object<{ mode?: (typeof MODES)[number] }>({ mode: opt(enumOf(MODES)) });

type CustomTag = NonNullable<TracingConfig['customTags']>[string];

const customTag = (): Schema<CustomTag> =>
  refine(
    object<CustomTag>(
      {
        literal: opt(object<{ value: string }>({ value: req(str()) })),
        environment: opt(
          object<{ name: string; defaultValue?: string }>({
            name: req(str({ nonEmpty: true })),
            defaultValue: opt(str()),
          }),
        ),
        header: opt(
          object<{ name: string; defaultValue?: string }>({
            name: req(str({ nonEmpty: true })),
            defaultValue: opt(str()),
          }),
        ),
      },
      { oneOf: [['literal', 'environment', 'header']] },
    ),
    (t, path, ctx) => {
      if (!t.literal && !t.environment && !t.header)
        report(ctx, path, 'a custom tag needs literal, environment or header', { code: 'MissingField' });
    },
  );

const tracing = (): Schema<TracingConfig> =>
  refine(
    object<TracingConfig>({
      match: opt(modeMatch()),
      providers: opt(providers()),
      randomSamplingPercentage: opt(num({ min: 0, max: 100 })),
      disableSpanReporting: opt(bool()),
      customTags: opt(mapOf(customTag())),
      useRequestIdForTraceSampling: opt(bool()),
    }),
    (t, path, ctx) => {
      if ((t.providers?.length ?? 0) > 1)
        report(ctx, [...path, 'providers'], 'only one tracing provider can be used (as in Istio)');
    },
  );

const METRICS = [
  'ALL_METRICS',
  'REQUEST_COUNT',
  'REQUEST_DURATION',
  'REQUEST_SIZE',
  'RESPONSE_SIZE',
  'TCP_OPENED_CONNECTIONS',
  'TCP_CLOSED_CONNECTIONS',
  'TCP_SENT_BYTES',
  'TCP_RECEIVED_BYTES',
  'GRPC_REQUEST_MESSAGES',
  'GRPC_RESPONSE_MESSAGES',
] as const;

const override = (): Schema<MetricsOverrides> =>
  refine(
    object<MetricsOverrides>({
      match: opt(
        object<NonNullable<MetricsOverrides['match']>>(
          {
            metric: opt(enumOf(METRICS)),
            customMetric: opt(str({ nonEmpty: true })),
            mode: opt(enumOf(MODES)),
          },
          { oneOf: [['metric', 'customMetric']] },
        ),
      ),
      disabled: opt(bool()),
      tagOverrides: opt(
        mapOf(
          object<{ operation?: 'UPSERT' | 'REMOVE'; value?: string }>({
            operation: opt(enumOf(['UPSERT', 'REMOVE'])),
            value: opt(str()),
          }),
        ),
      ),
    }),
    (o, path, ctx) => {
      for (const [tag, t] of Object.entries(o.tagOverrides ?? {})) {
        const op = t.operation ?? 'UPSERT';
        if (op === 'UPSERT' && !t.value)
          report(
            ctx,
            [...path, 'tagOverrides', tag],
            `tag "${tag}": UPSERT needs a value (a CEL expression)`,
            { code: 'MissingField' },
          );
        if (op === 'REMOVE' && t.value)
          report(ctx, [...path, 'tagOverrides', tag, 'value'], `tag "${tag}": REMOVE takes no value`);
      }
    },
  );

const metrics = (): Schema<MetricsConfig> =>
  object<MetricsConfig>({
    providers: opt(providers()),
    overrides: opt(arrayOf(override())),
    reportingInterval: opt(duration()),
  });

const accessLogging = (): Schema<AccessLoggingConfig> =>
  object<AccessLoggingConfig>({
    match: opt(modeMatch()),
    providers: opt(providers()),
    disabled: opt(bool()),
    filter: opt(object<{ expression: string }>({ expression: req(str({ nonEmpty: true })) })),
  });

export const telemetrySpec = (): Schema<TelemetrySpec> =>
  refine(
    object<TelemetrySpec>({
      selector: opt(labelSelector()),
      targetRef: opt(targetRef()),
      targetRefs: opt(arrayOf(targetRef())),
      tracing: opt(arrayOf(tracing())),
      metrics: opt(arrayOf(metrics())),
      accessLogging: opt(arrayOf(accessLogging())),
    }),
    (t, path, ctx) => {
      if (t.selector && (t.targetRef || t.targetRefs?.length))
        report(ctx, [...path, 'selector'], 'set either selector or targetRef(s), not both', { atKey: true });
      if ((t.tracing?.length ?? 0) > 1)
        report(ctx, [...path, 'tracing'], 'only one tracing configuration is supported (as in Istio)');
    },
  );
