/** A V8 CPU profile, as the inspector's Profiler domain gives it and `.cpuprofile` files hold. */
export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
  positionTicks?: { line: number; ticks: number }[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** The sampling interval of a profile when none is given, in microseconds. */
export const DEFAULT_PROFILE_INTERVAL_US = 100;

/** What a profiled call gives: its output and the profile of the runtime while it ran. */
export interface ProfiledCall {
  output: Uint8Array;
  profile: CpuProfile;
}
