/** User-facing text that is longer than a line lives here. */

export const PROGRAM_DESCRIPTION = `Set up Red Hat Advanced Cluster Security (RHACS / StackRox) to reach AWS with
short-lived credentials instead of long-lived keys.

The trust chain it builds:
  Kubernetes service account (central, sensor)
    → token signed by the cluster's OIDC issuer
    → IAM OIDC identity provider for that issuer
      (audience sts.amazonaws.com on EKS, openshift on OpenShift)
    → IAM role whose trust policy names exactly those service accounts
    → least-privilege ECR read policy

Start with "rhacs-sts plan" to see what would change; nothing is written until you confirm.`;

export const EXAMPLES: Record<string, string> = {
  'issuer-publish': `
What it does, in order (each step only if needed; a second run changes nothing):
  1. reads the cluster's signing keys (the API server's /openid/v1/jwks);
  2. creates the S3 bucket in the cluster's region, tagged rhacs-sts/managed=true;
  3. lets everyone read exactly two objects (bucket policy; ACLs stay blocked), as AWS STS must:
       https://<bucket>.s3.<region>.amazonaws.com/.well-known/openid-configuration
       https://<bucket>.s3.<region>.amazonaws.com/keys.json
  4. creates the IAM OIDC provider for that URL (audience openshift);
  5. with --set-cluster-issuer (at a terminal, asked twice): sets spec.serviceAccountIssuer of
     authentications.config.openshift.io/cluster and waits for the kube-apiservers to roll out
     (up to --timeout; 30m when not given: they restart one control-plane node at a time).

Step 5 is cluster-wide: every bound service-account token the cluster issues from then on carries
the new issuer, and every kube-apiserver restarts. Tokens of the old issuer stay accepted for about
24 hours. Anything that checks the old issuer (e.g. another OIDC provider for it) must follow.

After a signing-key rotation run it again: new keys are added, old ones kept for 24 h after the
cluster stops listing them. "rhacs-sts verify" fails, naming the missing kid, when the bucket lags.

Examples:
  # See what it would create (writes nothing)
  $ rhacs-sts issuer publish --dry-run

  # Publish, then point the cluster at it (asks for confirmation twice)
  $ rhacs-sts issuer publish --set-cluster-issuer

  # Then wire RHACS to AWS as usual
  $ rhacs-sts init

Exit codes: 0 done, 1 an operation failed, 2 invalid input, 130 cancelled.`,
  init: `
Examples:
  # At a terminal: detect the cluster and RHACS, answer a few questions, confirm the plan
  $ rhacs-sts init

  # In a script or CI job: no prompts, apply without asking
  $ rhacs-sts init --context prod-eks --cluster-name prod --yes --output json

  # Delegated scanning: Sensor pulls images too, from one registry account and region only
  $ rhacs-sts init --delegated-scanning --ecr-registry-id 444455556666 --ecr-region eu-west-1 --yes

  # Take over a role that already exists (its other statements and policies are kept)
  $ rhacs-sts init --role-name rhacs-ecr --adopt-role

Exit codes: 0 done, 1 an operation failed, 2 invalid input, 130 cancelled.`,
  plan: `
Examples:
  # Against the live cluster and account: read only, nothing is changed
  $ rhacs-sts plan --context prod-eks

  # Fully offline: every fact from flags, no AWS or Kubernetes access at all
  $ rhacs-sts plan --offline --provider eks --account-id 111122223333 \\
      --oidc-issuer https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE

  # OpenShift, as JSON for review
  $ rhacs-sts plan --offline --provider openshift --account-id 111122223333 --region us-east-1 \\
      --oidc-issuer https://my-oidc-bucket.s3.us-east-1.amazonaws.com --output json > plan.json

Exit codes: 0 done, 1 an operation failed, 2 invalid input.`,
  verify: `
Examples:
  # Every check, including a real token exchange for each service account
  $ rhacs-sts verify --context prod-eks

  # Only what can be read: no service-account token is requested, no role is assumed
  $ rhacs-sts verify --skip-exchange

  # For a CI gate: one JSON document with every check and its fix
  $ rhacs-sts verify --output json

Exit codes: 0 every check passed, 1 an operation failed, 2 invalid input, 3 a check failed.`,
  status: `
Examples:
  # What rhacs-sts manages for this cluster, and whether each piece is healthy (reads only)
  $ rhacs-sts status --context prod-eks

  # For a monitoring job: one JSON document, exit 3 when something is unhealthy
  $ rhacs-sts status --output json

Exit codes: 0 all healthy (or nothing managed), 1 an operation failed, 2 invalid input, 3 something is unhealthy.`,
  uninstall: `
Examples:
  # See what would be removed
  $ rhacs-sts uninstall --dry-run

  # Remove everything rhacs-sts created but keep the OIDC provider
  $ rhacs-sts uninstall --keep-oidc-provider --yes

Only resources tagged by rhacs-sts are deleted. Exit codes: 0 done, 1 an operation failed, 2 invalid input, 130 cancelled.`,
};

/** What to do after init has applied its plan. */
export const NEXT_STEPS = {
  enableRole: '  1. In RHACS, open Platform Configuration → Integrations → Amazon ECR, edit the integration and enable "Use container IAM role" (or let rhacs-sts do it: init --configure-integration).',
  integrationDone: (target: string) => `  1. Nothing to do in RHACS: ${target} uses the container IAM role, and Central's own test of it passed.`,
  verify: (command: string) => `  2. Check the whole chain (issuer, OIDC provider, role, Kubernetes wiring, a real token exchange): ${command}`,
};

/** What OpenShift needs before AWS can trust its service-account tokens: a public issuer that the tokens carry. */
export const OPENSHIFT_PUBLIC_ISSUER_HINT =
  'Give the cluster a public issuer first: "rhacs-sts issuer publish --set-cluster-issuer" publishes its discovery document and keys in an S3 bucket, creates the OIDC provider and (after asking twice: it is cluster-wide) sets spec.serviceAccountIssuer on authentications.config.openshift.io/cluster and waits for the kube-apiservers to roll out; then re-run. (ccoctl aws create-identity-provider does the same at install time.)';

/** The confirmation before apply: "Apply this change?" / "Apply these 5 changes?", with the outage if any. */
export function applyQuestion(count: number, outage?: string): string {
  return `${count === 1 ? 'Apply this change' : `Apply these ${count} changes`}?${outage ? ` (${outage})` : ''}`;
}

/** "6 changes applied (4 in IAM, 2 in Kubernetes)": only the places that changed; Central's integration is in RHACS. */
export function appliedCount(n: { iam: number; kube: number; rhacs: number }): string {
  const total = n.iam + n.kube + n.rhacs;
  const where = ([[n.iam, 'in IAM'], [n.kube, 'in Kubernetes'], [n.rhacs, 'in RHACS']] as const)
    .filter(([k]) => k > 0).map(([k, w]) => `${k} ${w}`).join(', ');
  return `${total} change${total === 1 ? '' : 's'} applied${where ? ` (${where})` : ''}`;
}
