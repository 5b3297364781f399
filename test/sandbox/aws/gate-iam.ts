// Stand-in for the parts of IAM that moto 5.2.5 lacks, in front of moto (see aws-gate.ts).
// Enforces, from the IAM API Reference and the IAM quotas page ("IAM and AWS STS quotas"):
//   - the role trust policy length quota (ACLSizePerRole, default 2,048 characters, whitespace not
//     counted) on CreateRole and UpdateAssumeRolePolicy → LimitExceeded "Cannot exceed quota for
//     ACLSizePerRole: 2048" (HTTP 409), and GetAccountSummary's AssumeRolePolicySizeQuota reports it;
//   - AddClientIDToOpenIDConnectProvider / RemoveClientIDFromOpenIDConnectProvider (both idempotent;
//     NoSuchEntity for an unknown provider, InvalidInput for a malformed ARN, ValidationError for a
//     client ID outside 1..255 characters, LimitExceeded past 100 client IDs), reflected by
//     GetOpenIDConnectProvider's ClientIDList and used by the STS audience check.
// Everything else goes to moto unchanged.
import { GetOpenIDConnectProviderCommand } from '@aws-sdk/client-iam';
import {
  FORWARD,
  motoIam,
  xmlEmptyResult,
  xmlError,
  xmlEscape,
  xmlText,
  type GateContext,
  type GateOutcome,
  type GateRequest,
} from './gate-wire.js';

export const DEFAULT_TRUST_POLICY_QUOTA = 2048;
const MAX_CLIENT_IDS = 100;
const PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/.+$/;

/** Non-whitespace characters: what IAM counts against ACLSizePerRole. */
export function policySize(document: string): number {
  return document.replace(/\s/g, '').length;
}

export interface ProviderView {
  url: string;
  clientIds: string[];
}

export class IamGate {
  quota = DEFAULT_TRUST_POLICY_QUOTA;
  // Client ID lists the gate changed, per provider ARN. Keyed also by the provider's creation time,
  // so a provider deleted behind the gate's back (moto reset) and created again starts from moto's list.
  private readonly overrides = new Map<string, { created: number; ids: string[] }>();

  constructor(private readonly ctx: GateContext) {}

  /** Back to a fresh account (with moto's reset). */
  reset(): void {
    this.quota = DEFAULT_TRUST_POLICY_QUOTA;
    this.overrides.clear();
  }

  /** A provider as IAM would show it (the gate's client IDs), or undefined when it does not exist. */
  async provider(arn: string): Promise<ProviderView | undefined> {
    const account = arn.split(':')[4];
    try {
      const p = await motoIam(this.ctx.motoUrl, account).send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
      return { url: p.Url ?? '', clientIds: this.clientIdsFor(arn, p.CreateDate, p.ClientIDList ?? []) };
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchEntityException' || (err as { name?: string }).name === 'NoSuchEntity') return undefined;
      throw err;
    }
  }

  private clientIdsFor(arn: string, created: Date | string | undefined, fromMoto: string[]): string[] {
    const o = this.overrides.get(arn);
    if (o && o.created === toMillis(created)) return [...o.ids];
    return [...fromMoto];
  }

  async handle(req: GateRequest): Promise<GateOutcome> {
    switch (req.action) {
      case 'CreateRole':
        return this.checkTrustSize(req, 'iam:CreateRole', req.params.get('AssumeRolePolicyDocument'));
      case 'UpdateAssumeRolePolicy':
        return this.checkTrustSize(req, 'iam:UpdateAssumeRolePolicy', req.params.get('PolicyDocument'));
      case 'GetAccountSummary':
        return { kind: 'forward', response: (status, body) => (status === 200 ? this.rewriteSummary(body) : undefined) };
      case 'AddClientIDToOpenIDConnectProvider':
      case 'RemoveClientIDFromOpenIDConnectProvider':
        return this.changeClientIds(req, req.action === 'AddClientIDToOpenIDConnectProvider');
      case 'GetOpenIDConnectProvider':
        return this.reflectClientIds(req.params.get('OpenIDConnectProviderArn') ?? '');
      case 'CreateOpenIDConnectProvider':
      case 'DeleteOpenIDConnectProvider': {
        const arn = req.params.get('OpenIDConnectProviderArn');
        if (arn) this.overrides.delete(arn);
        return FORWARD;
      }
      default:
        return FORWARD;
    }
  }

  private checkTrustSize(req: GateRequest, action: string, document: string | null): GateOutcome {
    const role = req.params.get('RoleName') ?? undefined;
    if (document === null) return FORWARD; // moto answers the missing-parameter error itself
    const size = policySize(document);
    if (size <= this.quota) {
      this.ctx.decide({ action, role, principal: req.accessKeyId, allowed: true, reason: `trust policy ${size} of ${this.quota} characters` });
      return FORWARD;
    }
    const message = `Cannot exceed quota for ACLSizePerRole: ${this.quota}`;
    this.ctx.decide({ action, role, principal: req.accessKeyId, allowed: false, reason: `trust policy ${size} > ${this.quota} characters`, code: 'LimitExceeded' });
    return xmlError('iam', 409, 'LimitExceeded', message);
  }

  private rewriteSummary(body: string): string {
    const entry = /(<key>AssumeRolePolicySizeQuota<\/key>\s*<value>)(\d+)(<\/value>)/;
    if (entry.test(body)) return body.replace(entry, `$1${this.quota}$3`);
    // moto does not list it: add the entry the way IAM reports it.
    return body.replace(/<SummaryMap>/, `<SummaryMap><entry><key>AssumeRolePolicySizeQuota</key><value>${this.quota}</value></entry>`);
  }

  private reflectClientIds(arn: string): GateOutcome {
    return {
      kind: 'forward',
      response: (status, body) => {
        const o = this.overrides.get(arn);
        if (status !== 200 || !o || o.created !== toMillis(xmlText(body, 'CreateDate'))) return undefined;
        const list = `<ClientIDList>${o.ids.map((id) => `<member>${xmlEscape(id)}</member>`).join('')}</ClientIDList>`;
        if (/<ClientIDList\s*\/>|<ClientIDList>[\s\S]*?<\/ClientIDList>/.test(body)) {
          return body.replace(/<ClientIDList\s*\/>|<ClientIDList>[\s\S]*?<\/ClientIDList>/, list);
        }
        return body.replace(/<\/GetOpenIDConnectProviderResult>/, `${list}</GetOpenIDConnectProviderResult>`);
      },
    };
  }

  private async changeClientIds(req: GateRequest, add: boolean): Promise<GateOutcome> {
    const action = `iam:${req.action}`;
    const arn = req.params.get('OpenIDConnectProviderArn') ?? '';
    const clientId = req.params.get('ClientID') ?? '';
    const deny = (status: number, code: string, message: string) => {
      this.ctx.decide({ action, resource: arn, principal: req.accessKeyId, allowed: false, reason: message, code });
      return xmlError('iam', status, code, message);
    };
    if (!arn) return deny(400, 'ValidationError', "1 validation error detected: Value null at 'openIDConnectProviderArn' failed to satisfy constraint: Member must not be null");
    if (arn.length < 20 || arn.length > 2048 || !PROVIDER_ARN.test(arn)) return deny(400, 'InvalidInput', `ARN ${arn} is not valid.`);
    if (clientId.length < 1 || clientId.length > 255) {
      return deny(400, 'ValidationError', `1 validation error detected: Value '${clientId}' at 'clientID' failed to satisfy constraint: Member must have length ${clientId.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 255'}`);
    }
    const account = arn.split(':')[4];
    let current;
    try {
      current = await motoIam(this.ctx.motoUrl, account).send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (/NoSuchEntity/.test(name)) return deny(404, 'NoSuchEntity', `OpenIDConnect Provider not found for arn ${arn}`);
      throw err;
    }
    const ids = this.clientIdsFor(arn, current.CreateDate, current.ClientIDList ?? []);
    const next = add ? (ids.includes(clientId) ? ids : [...ids, clientId]) : ids.filter((id) => id !== clientId);
    if (next.length > MAX_CLIENT_IDS) return deny(409, 'LimitExceeded', `Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: ${MAX_CLIENT_IDS}`);
    this.overrides.set(arn, { created: toMillis(current.CreateDate), ids: next });
    this.ctx.decide({ action, resource: arn, principal: req.accessKeyId, allowed: true, reason: `${add ? 'added' : 'removed'} client ID ${clientId}` });
    return xmlEmptyResult('iam', req.action!);
  }
}

function toMillis(d: Date | string | undefined): number {
  if (d === undefined) return 0;
  const t = d instanceof Date ? d.getTime() : Date.parse(d);
  // Seconds: moto's XML and the SDK's parsed date differ below that.
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}
