/** The IAM OIDC provider of a cluster's issuer: create, converge (audiences, tags, giving back an adopted one) and delete. */
import {
  AddClientIDToOpenIDConnectProviderCommand,
  CreateOpenIDConnectProviderCommand,
  DeleteOpenIDConnectProviderCommand,
  RemoveClientIDFromOpenIDConnectProviderCommand,
  TagOpenIDConnectProviderCommand,
  UntagOpenIDConnectProviderCommand,
} from '@aws-sdk/client-iam';
import { OperationError } from '../../../errors.js';
import { isManaged } from '../../../plan/build.js';
import type { OidcProviderState } from '../../../plan/model.js';
import { call, isAlreadyExists, mapAwsError } from '../errors.js';
import { ADOPTED_TAG } from '../policies.js';
import type { AwsAction } from '../session.js';
import { toTags, type IamContext } from './context.js';
import { ownedOrAdopted } from './ownership.js';
import { readProvider, rolesTrusting } from './read.js';

type ProviderAction = Extract<AwsAction, { type: 'oidc-provider' }>;

export async function ensureProvider(ctx: IamContext, a: ProviderAction): Promise<boolean> {
  let current = await readProvider(ctx, a.arn);
  if (!current) {
    const created = await createProvider(ctx, a);
    if (created === 'created') return true;
    current = created;
  }
  return convergeProvider(ctx, a, current, ownedOrAdopted(a, current));
}

/** Creates the provider; when someone just created it, the one they made (re-read, to converge). */
async function createProvider(ctx: IamContext, a: ProviderAction): Promise<'created' | OidcProviderState> {
  try {
    await ctx.iam().send(new CreateOpenIDConnectProviderCommand({
      Url: a.issuer,
      ClientIDList: a.addClientIds,
      ...(a.thumbprints.length ? { ThumbprintList: a.thumbprints } : {}),
      Tags: toTags(a.tags),
    }));
    return 'created';
  } catch (err) {
    if (!isAlreadyExists(err)) throw mapAwsError(err, `creating the OIDC provider for ${a.issuer}`);
    // Someone just created it: re-read and converge.
    ctx.log(`the OIDC provider ${a.arn} was created concurrently; converging it`);
    const current = await readProvider(ctx, a.arn);
    if (!current) throw new OperationError(`The OIDC provider ${a.arn} was reported as existing but cannot be read.`, { hint: 'Re-run "rhacs-sts init".' });
    return current;
  }
}

/** Adds the missing audiences and tags; gives an adopted provider back (only the audiences we added, only our tags). */
async function convergeProvider(ctx: IamContext, a: ProviderAction, current: OidcProviderState, tags: Record<string, string>): Promise<boolean> {
  let wrote = false;
  for (const id of a.addClientIds.filter((x) => !current.clientIds.includes(x))) {
    await call(`adding the audience ${id} to ${a.arn}`, () =>
      ctx.iam().send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: a.arn, ClientID: id })));
    wrote = true;
  }
  const missingTags = Object.entries(tags).filter(([k, v]) => current.tags[k] !== v);
  if (missingTags.length) {
    await call(`tagging ${a.arn}`, () =>
      ctx.iam().send(new TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: a.arn, Tags: toTags(Object.fromEntries(missingTags)) })));
    wrote = true;
  }
  // Giving an adopted provider back: only the audiences we added, and only our tags.
  for (const id of (a.removeClientIds ?? []).filter((x) => current.clientIds.includes(x))) {
    await call(`removing the audience ${id} from ${a.arn}`, () =>
      ctx.iam().send(new RemoveClientIDFromOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: a.arn, ClientID: id })));
    wrote = true;
  }
  const untag = (a.removeTags ?? []).filter((k) => k in current.tags);
  if (untag.length) {
    await call(`removing our tags from ${a.arn}`, () =>
      ctx.iam().send(new UntagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: a.arn, TagKeys: untag })));
    wrote = true;
  }
  return wrote;
}

export async function deleteProvider(ctx: IamContext, a: ProviderAction): Promise<boolean> {
  const current = await readProvider(ctx, a.arn);
  if (!current) return false;
  if (!isManaged(current.tags)) throw new OperationError(`The OIDC provider ${a.arn} is not tagged as created by rhacs-sts; it is not deleted.`);
  if (current.tags[ADOPTED_TAG] === 'true') throw new OperationError(`The OIDC provider ${a.arn} was adopted, not created, by rhacs-sts; it is never deleted.`);
  const trusting = await rolesTrusting(ctx, a.arn);
  if (trusting.length) {
    throw new OperationError(`The OIDC provider ${a.arn} is still trusted by ${trusting.join(', ')}; it is not deleted.`, {
      hint: 'Re-run "rhacs-sts uninstall" (the plan keeps a provider that other roles use), or pass --keep-oidc-provider.',
    });
  }
  await call(`deleting the OIDC provider ${a.arn}`, () => ctx.iam().send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: a.arn })));
  return true;
}
