// `trellis analyze -f DIR`: cross-resource checks in the spirit of `istioctl analyze` (placeholder until analyzers land).

import type { Command } from 'commander';

export function registerAnalyze(_program: Command): void {}
