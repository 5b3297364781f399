/**
 * What every platform does with a wiring, by kind: annotations go on the service account, labels on
 * the pod template, env on the container. Each platform takes the kinds it uses (EKS, GKE: an
 * annotation; AKS: an annotation and a label; OpenShift: env or a Secret).
 */
import type { Component, OperatorOverlay } from '../plan/model.js';
import type { PodWiring } from './types.js';

/** An overlay path segment: dots inside a key are escaped, as the operator's overlay paths require. */
const key = (k: string) => k.replace(/\./g, '\\.');

/** spec.overlays entries for a wiring: one per object it touches (the service account, the deployment). */
export function wiringOverlays(comp: Component, w: PodWiring): OperatorOverlay[] {
  const out: OperatorOverlay[] = [];
  const annotations = Object.entries(w.serviceAccountAnnotations ?? {});
  if (annotations.length) {
    out.push({ apiVersion: 'v1', kind: 'ServiceAccount', name: comp, patches: annotations.map(([k, value]) => ({ path: `metadata.annotations.${key(k)}`, value })) });
  }
  // A patch's value is read as YAML: a bare `true` would become a boolean, which no label may be;
  // quoted (JSON is YAML), it stays the string the webhook selects on (`verbatim` needs 4.8+).
  const patches = [
    ...Object.entries(w.podLabels ?? {}).map(([k, value]) => ({ path: `spec.template.metadata.labels.${key(k)}`, value: JSON.stringify(value) })),
    ...(w.env ?? []).map((e) => ({ path: `spec.template.spec.containers[name:${comp}].env[-1]`, value: `name: ${e.name}\nvalue: ${e.value}\n` })),
  ];
  if (patches.length) out.push({ apiVersion: 'apps/v1', kind: 'Deployment', name: comp, patches });
  return out;
}

/** The StackRox charts' `customize` values for a wiring (annotations per object, env per component). */
export function wiringHelmValues(comp: Component, w: PodWiring): Record<string, unknown> {
  const values: Record<string, Record<string, unknown>> = {};
  if (w.serviceAccountAnnotations && Object.keys(w.serviceAccountAnnotations).length) {
    values.other = { [`serviceaccount/${comp}`]: { annotations: w.serviceAccountAnnotations } };
  }
  const component: Record<string, unknown> = {};
  if (w.podLabels && Object.keys(w.podLabels).length) component.podLabels = w.podLabels;
  if (w.env?.length) component.envVars = Object.fromEntries(w.env.map((e) => [e.name, e.value]));
  if (Object.keys(component).length) values[comp] = component;
  return { customize: values };
}
