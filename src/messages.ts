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
