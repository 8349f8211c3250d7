import { kernelBytes } from './kernel';
import { mergeKernel, MergeResult } from './kernelMerge';
import { kernelPath } from './kernelPath';
import { limitMemory } from './memoryLimit';
import { customSection } from './moduleSymbols';

// Whether a module's kernel is merged into it: the decision the module cache compiles by, and the
// overview shows.

type Merged = Extract<MergeResult, { merged: Uint8Array }>;

/**
 * The kernel merged into a module (its memory capped), or why it is not (`dwarf`: whether it has a
 * line table, which decides how it merges): `note` is null for a
 * module that calls none of the kernel's functions (a library). A debugger reads the DWARF of the
 * module V8 compiled: a module with DWARF merges only where its code keeps its offsets (and its
 * DWARF goes with it); a source map counts offsets from the module's start, which any merge moves.
 */
export function mergePlan(limited: Uint8Array, maxPages: number): ({ merged: Merged; note: null } | { merged: null; note: string | null }) & { dwarf: boolean } {
  const dwarf = customSection(limited, '.debug_line') !== undefined;
  const result = mergeKernel(limited, kernelBytes(), maxPages, dwarf);
  if (result.merged && customSection(limited, 'sourceMappingURL')) return { merged: null, note: 'it names a source map (sourceMappingURL), whose offsets a merge would move', dwarf };
  if (result.merged) return { merged: result, note: null, dwarf };
  if (!result.notable) return { merged: null, note: null, dwarf };
  return { merged: null, note: dwarf ? `it has DWARF, whose offsets must hold for a debugger, and ${result.reason}` : result.reason, dwarf };
}

/**
 * How plugins loaded in this process would reach the kernel from this module, for the overview:
 * merged into it, or an instance of its own and why; null for a module that is not valid or calls
 * none of the kernel's functions. Only reads and rewrites the bytes: nothing is compiled.
 */
export function kernelPlan(bytes: Uint8Array): { merged: boolean; why: string } | null {
  if (!WebAssembly.validate(bytes)) return null;
  const path = kernelPath();
  const plan = mergePlan(limitMemory(bytes, MAX_PAGES), MAX_PAGES);
  if (!plan.merged && plan.note === null) return null;
  if (path.path === 'separate') return { merged: false, why: path.why };
  return plan.merged ? { merged: true, why: plan.dwarf ? 'its code keeps every byte offset, so its DWARF holds' : 'multi-memory' } : { merged: false, why: plan.note as string };
}

/** The most pages a memory limit can give: the merge's Extism memory maximum does not change the plan. */
const MAX_PAGES = 65536;
