/**
 * What every cluster-side wiring plan of a cloud other than AWS shares (annotations on GKE and AKS,
 * the environment on OpenShift): the walk over clusters and their components with the durable place
 * each install method gives, the operator overlay that keeps a change, and the notes on durability.
 * The wiring itself (what is set, and how its status is read) is the caller's. Pure.
 */
import { platform } from '../platforms/registry.js';
import type { Platform, PodWiring } from '../platforms/types.js';
import { sameOverlay } from './build.js';
import { targetComponents } from './components.js';
import { HelmValuesByRelease } from './helm-values.js';
import type { BasePlan, ClusterFacts, Component, KubeAction, KubeChange, KubeRef, OperatorOverlay } from './model.js';
import { outageNote } from './restarts.js';

export type WiringPart = Pick<BasePlan<KubeAction>, 'kubernetes' | 'restarts' | 'helmValues' | 'actions' | 'blockers' | 'notes'>;

/** What the plan of one component is built into (the part's lists, and the components whose restart is an outage). */
export interface WiringLists {
  kubernetes: KubeChange[];
  restarts: BasePlan['restarts'];
  actions: KubeAction[];
  blockers: BasePlan['blockers'];
  notes: string[];
  outages: Component[];
}

/** One component of one cluster, as the walk hands it to the caller. */
export interface WiredComponent {
  cluster: ClusterFacts;
  comp: Component;
  ref: KubeRef;
  /** `<context>: <namespace>/` (the context only in a fleet), before an object's name. */
  where: string;
  state: NonNullable<ClusterFacts['current']>[Component] | undefined;
  wiring: PodWiring;
  durability: KubeChange['durability'];
  /** Whether the cluster was read (false: a plan from flags alone). */
  known: boolean;
  platform: Platform;
}

export interface WiringWalk {
  clusters: ClusterFacts[];
  delegatedScanning: boolean;
  wiring: (cluster: ClusterFacts, comp: Component) => PodWiring;
  /** What the change is, in the notes on durability ("the annotation", "the environment"). */
  what: string;
  /** The note for a Helm install (default: the changes are live; the values keep them). */
  helmNote?: string;
}

/**
 * Walks every targeted component of every cluster: `each` plans the component into `lists`; the
 * operator overlay and the Helm values that keep the wiring, and the notes on durability and
 * outages, are added here.
 */
export function walkWiring(w: WiringWalk, each: (c: WiredComponent, lists: WiringLists) => void): WiringPart {
  const lists: WiringLists = { kubernetes: [], restarts: [], actions: [], blockers: [], notes: [], outages: [] };
  const helmValues: NonNullable<BasePlan['helmValues']> = [];
  const multi = w.clusters.length > 1;
  for (const cluster of w.clusters) {
    const p = platform(cluster.provider);
    const durability: KubeChange['durability'] =
      cluster.installMethod === 'operator' ? 'operator-overlay' : cluster.installMethod === 'helm' ? 'helm-values' : 'live';
    const helm = new HelmValuesByRelease(cluster);
    const known = cluster.current !== undefined;
    for (const comp of targetComponents(cluster, w.delegatedScanning)) {
      const c: WiredComponent = {
        cluster, comp, durability, known, platform: p,
        ref: { context: cluster.context, namespace: cluster.namespace, name: comp },
        where: `${multi && cluster.context ? `${cluster.context}: ` : ''}${cluster.namespace}/`,
        state: cluster.current?.[comp],
        wiring: w.wiring(cluster, comp),
      };
      each(c, lists);
      if (durability === 'helm-values') helm.add(comp, p.helmValues(comp, c.wiring));
    }
    helmValues.push(...helm.list());
    lists.notes.push(...durabilityNotes(durability, known, w));
  }
  if (lists.outages.length) lists.notes.push(outageNote(lists.outages));
  const { kubernetes, restarts, actions, blockers, notes } = lists;
  return { kubernetes, restarts, ...(helmValues.length ? { helmValues } : {}), actions, blockers, notes: [...new Set(notes)] };
}

function durabilityNotes(durability: KubeChange['durability'], known: boolean, w: WiringWalk): string[] {
  if (durability === 'helm-values') {
    return [w.helmNote ?? 'RHACS was installed with Helm: the changes are applied live now; add the printed values to your Helm values so that the next "helm upgrade" keeps them.'];
  }
  if (durability === 'operator-overlay') {
    return ['RHACS is managed by its operator: the changes go into the Central/SecuredCluster resource as overlays (durable), and are also applied live so they take effect now.'];
  }
  if (durability === 'live' && known) {
    return [`RHACS was installed from plain manifests (no Helm release, no operator): the changes are applied live only, and re-applying those manifests removes them; add ${w.what} to your manifests to keep it.`];
  }
  return [];
}

/** The operator overlay that keeps a component's wiring, when the operator manages it (undefined otherwise). */
export function overlayAction(c: WiredComponent): KubeAction | undefined {
  const cr = c.cluster.operatorCrs?.[c.comp];
  if (c.durability !== 'operator-overlay' || !cr) return undefined;
  const overlays = c.platform.operatorOverlays(c.comp, c.wiring);
  const present = cr.overlays !== undefined && overlays.every((o) => cr.overlays!.some((x) => sameOverlay(x, o)));
  return {
    id: `operator-overlay:${c.cluster.context ?? ''}:${c.cluster.namespace}:${c.comp}`, type: 'operator-overlay',
    status: !c.known || cr.overlays === undefined ? 'create' : present ? 'unchanged' : 'update',
    target: `${c.where}${cr.kind.toLowerCase()}/${cr.name}`,
    summary: `Make it durable: add an overlay for ${c.comp} to the ${cr.kind} resource, so the operator keeps it`,
    current: cr.overlays, desired: overlays,
    ref: { context: c.cluster.context, namespace: c.cluster.namespace, name: cr.name }, crKind: cr.kind, overlays,
  };
}

/**
 * What uninstall does with a component's operator overlays: the delete of those of rhacs-sts's
 * (`overlays`, the ones init adds) the resource still holds; undefined when it holds none.
 */
export function overlayRemoval(cluster: ClusterFacts, comp: Component, where: string, overlays: OperatorOverlay[]): KubeAction | undefined {
  const cr = cluster.operatorCrs?.[comp];
  const present = cr ? (cr.overlays ?? []).filter((x) => overlays.some((o) => sameOverlay(x, o))) : [];
  if (!cr || !present.length) return undefined;
  return {
    id: `operator-overlay:${cluster.context ?? ''}:${cluster.namespace}:${comp}`, type: 'operator-overlay', status: 'delete',
    target: `${where}${cr.kind.toLowerCase()}/${cr.name}`,
    summary: `Remove rhacs-sts's overlay${present.length === 1 ? '' : 's'} for ${comp} from the ${cr.kind} resource`,
    current: present, desired: null,
    ref: { context: cluster.context, namespace: cluster.namespace, name: cr.name }, crKind: cr.kind, overlays,
  };
}
