/**
 * verify on OpenShift on Azure (pure rows): the issuer Entra is told to trust, and a component's
 * wiring — the deployment itself names the identity (AZURE_CLIENT_ID), its tenant, the token file
 * OpenShift projects (AZURE_FEDERATED_TOKEN_FILE; outside the public cloud AZURE_AUTHORITY_HOST),
 * and mounts that token. Nothing injects these on OpenShift: a missing one fails its row with the
 * init that sets it.
 */
import type { ClusterFacts, Component } from '../../plan/model.js';
import { row, rowId, rowName, type CheckRow, type Where } from '../../verify/rows.js';
import { OPENSHIFT_TOKEN_DIR } from '../../platforms/openshift/constants.js';
import type { AzureCloudName } from './clouds.js';
import { azureWiring } from './wiring.js';

/** The cluster's row: the issuer as its Authentication object says it (what the federated credentials must say). */
export function openShiftIssuerRow(issuer: string, where: Where): CheckRow {
  return row(rowId('openshift-issuer', where), rowName('OpenShift issuer', where), 'pass', `spec.serviceAccountIssuer of authentication.config.openshift.io/cluster is ${issuer}.`);
}

/** A component's variables on its deployment, and the projected token they point at. */
export function openShiftWiringRow(o: { cluster: ClusterFacts; component: Component; identity: { name: string; clientId?: string; tenantId: string }; cloud: AzureCloudName; initCommand: string }, where: Where): CheckRow {
  const { cluster, component: comp } = o;
  const id = rowId('azure-wiring', where, comp);
  const name = rowName(`Deployment env (${comp})`, where);
  const dep = cluster.current?.[comp]?.deployment;
  const problems: string[] = [];
  if (!o.identity.clientId) problems.push(`managed identity ${o.identity.name} does not exist`);
  if (!dep) problems.push(`deployment ${cluster.namespace}/${comp} was not found`);
  else {
    const want = azureWiring('openshift', { clientId: o.identity.clientId ?? '', tenantId: o.identity.tenantId, cloud: o.cloud }).env ?? [];
    for (const w of want) {
      const have = dep.env.find((e) => e.name === w.name);
      if (!have) problems.push(`container ${comp} has no ${w.name}`);
      else if (w.name === 'AZURE_CLIENT_ID' && !o.identity.clientId) continue;
      else if ((have.value ?? '').toLowerCase() !== w.value.toLowerCase()) problems.push(`container ${comp} has ${w.name}=${have.value ?? '(from a reference)'}, not ${w.value}`);
    }
    if (!dep.hasTokenMount) problems.push(`container ${comp} mounts no projected service-account token (audience openshift) at ${OPENSHIFT_TOKEN_DIR}`);
  }
  if (problems.length) return row(id, name, 'fail', `${problems.join('; ')}.`, `Run "${o.initCommand}" (it sets the variables and rolls the pods).`);
  return row(id, name, 'pass', `Deployment ${cluster.namespace}/${comp} names client id ${o.identity.clientId} and OpenShift's token (${OPENSHIFT_TOKEN_DIR}/token).`);
}
