// Rate limit service configs from Istio's tasks: the examples docs and tests refer to.

/** The ConfigMap of Istio's global rate limit task. */
export const ISTIO_TASK_CONFIG = `
domain: ratelimit
descriptors:
  - key: PATH
    value: "/productpage"
    rate_limit:
      unit: minute
      requests_per_unit: 1
  - key: PATH
    value: "api"
    rate_limit:
      unit: minute
      requests_per_unit: 2
  - key: PATH
    rate_limit:
      unit: minute
      requests_per_unit: 100
`;
