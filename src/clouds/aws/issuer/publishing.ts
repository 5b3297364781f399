/**
 * AWS's issuer publishing, as the pipeline reaches it (the cloud's `issuerPublishing`): publishing a
 * cluster's issuer in S3 with its OIDC provider, and removing what was published once nothing trusts it.
 */
export { publishIssuer, type PublishOutcome, type PublishSessions, type SetClusterIssuer } from './publish-issuer.js';
export { removePublishedIssuers } from './remove-issuers.js';
