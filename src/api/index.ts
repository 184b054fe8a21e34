// The configuration room's public API: load, validate and analyze Istio and Kubernetes resources.

export { ANALYZERS, type Analyzer, analyze, formatAnalysisMessage } from './analyze/analyze.js';
export { CODES } from './analyze/codes.js';
export { type LoadOptions, type LoadResult, loadInputs, loadText } from './load/load.js';
export type { LoadedResource, PositionOptions } from './load/loaded-resource.js';
export { unpositioned } from './load/loaded-resource.js';
export {
  type ConfigMessage,
  type FieldPath,
  formatMessage,
  formatPath,
  hasErrors,
  type Severity,
  sortMessages,
  ValidationCode,
} from './messages.js';
export { validateResource, validateResources } from './validate/validate.js';
