// Resource Manager (cloudresourcemanager.v3): projects.get by id or number (answered as
// `projects/<number>`), the project's IAM policy, and testIamPermissions (what a caller holds on it).
import type { Policy } from './iam-policy.js';
import { iamPolicyRequest, str, type GcpWorld, type Handler } from './world.js';

export function resourceManagerHandlers(w: GcpWorld): Record<string, Handler> {
  const { project, allowed, requirePermission } = w;
  return {
    'cloudresourcemanager.projects.get': ({ params, caller }) => {
      const ref = str(params.name).replace(/^projects\//, '');
      const proj = project(ref);
      requirePermission(caller, 'resourcemanager.projects.get', str(params.name), [proj.policy]);
      return { name: `projects/${proj.projectNumber}`, projectId: proj.projectId, state: 'ACTIVE', displayName: proj.projectId, parent: 'organizations/0', createTime: '2024-01-01T00:00:00.000Z', etag: 'W/"sandbox"' };
    },
    'cloudresourcemanager.projects.getIamPolicy': (ctx) => {
      const proj = project(str(ctx.params.resource).replace(/^projects\//, ''));
      requirePermission(ctx.caller, 'resourcemanager.projects.getIamPolicy', str(ctx.params.resource), [proj.policy]);
      return proj.policy.read(iamPolicyRequest(ctx)) as Record<string, unknown>;
    },
    'cloudresourcemanager.projects.setIamPolicy': ({ params, body, caller }) => {
      const proj = project(str(params.resource).replace(/^projects\//, ''));
      requirePermission(caller, 'resourcemanager.projects.setIamPolicy', str(params.resource), [proj.policy]);
      return proj.policy.write((body.policy ?? {}) as Policy) as Record<string, unknown>;
    },
    // Any caller may ask; the answer lists only what it holds (none: an empty object, as Google answers).
    'cloudresourcemanager.projects.testIamPermissions': ({ params, body, caller }) => {
      const proj = project(str(params.resource).replace(/^projects\//, ''));
      const held = ((body.permissions ?? []) as string[]).filter((p) => allowed(caller, p, [proj.policy]));
      return held.length ? { permissions: held } : {};
    },
  };
}
