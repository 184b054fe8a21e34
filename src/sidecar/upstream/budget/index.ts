// Public API of retry budgets.

export {
  DEFAULT_RETRY_BUDGET,
  parseRetryBudgetAnnotation,
  RETRY_BUDGET_ANNOTATION,
  RETRY_BUDGET_METADATA_KEY,
  type RetryBudgetConfig,
  resolveRetryBudget,
  retryBudgetFromMetadata,
  retryBudgetFromSpec,
} from '../../../shared/retry-budget.js';
export { RetryBudget } from './retry-budget.js';
