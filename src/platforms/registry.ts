/**
 * Every platform rhacs-sts knows, by id. A platform's module holds no SDK and is small; it is still
 * reached through here so that the pipeline names no platform folder (a test in the suite says so).
 * A new platform adds its folder and one line below.
 */
import type { DetectionSignal, Platform, PlatformId } from './types.js';
import { aks } from './aks/index.js';
import { eks } from './eks/index.js';
import { gke } from './gke/index.js';
import { openshift } from './openshift/index.js';

export type { Platform, PlatformId, PodWiring } from './types.js';

const PLATFORMS: Record<PlatformId, Platform> = { eks, openshift, gke, aks };

export const PLATFORM_IDS = Object.keys(PLATFORMS) as PlatformId[];

export function platform(id: PlatformId): Platform {
  return PLATFORMS[id];
}

/** Whether a value read from the cluster is one of the platform's detection signals. */
export function hasSignal(id: PlatformId, source: DetectionSignal['source'], value: string): boolean {
  return PLATFORMS[id].signals.some((s) => s.source === source && (typeof s.pattern === 'string' ? s.pattern === value : s.pattern.test(value)));
}
