import type { LogThreshold } from './logging';
import { defaultPolicy, Policy } from './policy';

/** Everything a face sets in a runtime: the policy and how the runtime reports. */
export interface RuntimeSettings {
  policy: Policy;
  /** Record a span per call. */
  tracing: boolean;
  /** Plugin log messages below this level are dropped. */
  logLevel: LogThreshold;
  /** How to grant WASI, in the words of the face using the runtime. */
  wasiHint: string;
  /** How to supply host functions, in the same words. */
  hostFunctionsHint: string;
}

export const defaultSettings: RuntimeSettings = {
  policy: defaultPolicy,
  tracing: true,
  logLevel: 'info',
  wasiHint: 'grant WASI to run it',
  hostFunctionsHint: 'give a module that supplies host functions, or bind the import to another plugin',
};
