export { ProposalGate } from './proposalGate';
export type { WriteGrant } from './grants';
export { DEFAULT_DECISION_TIMEOUT_MS } from './types';
export type {
  ApplyBatch,
  ApplyOptions,
  ApplyOutcome,
  AskOutcome,
  Birth,
  EditedCommandOutcome,
  GateDeps,
  GateRefusal,
  ProposalFields,
  RefusedEntry,
} from './types';
