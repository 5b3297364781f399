// Stand-in for the EKS APIs moto lacks, in the AWS gate (see aws-gate.ts):
//
// 1. EKS Pod Identity associations (EKS API Reference: CreatePodIdentityAssociation,
//    DescribePodIdentityAssociation, ListPodIdentityAssociations, UpdatePodIdentityAssociation,
//    DeletePodIdentityAssociation; TagResource / UntagResource / ListTagsForResource on an
//    association ARN). Every request is validated against the EKS service model botocore ships
//    (aws-model.ts: required members, types, lengths, ranges) and every answer against the output
//    shape. The cluster must be one of moto's EKS clusters in the caller's account and region
//    (ResourceNotFoundException "No cluster found for name: …", as moto and EKS say); one association
//    per cluster, namespace and service account (ResourceInUseException 409 "Association already
//    exists: <id>"); the role must be an IAM role ARN (InvalidParameterException); tags: at most 50,
//    keys 1–128 and values ≤ 256 characters, no `aws:` prefix. IDs `a-` + 17 lowercase letters and
//    digits; ARN `arn:<partition>:eks:<region>:<account>:podidentityassociation/<cluster>/<id>`.
//    Any other EKS call (DescribeCluster, …) goes to moto; DescribeCluster answers with the
//    cluster's real issuer (moto makes up a random one).
//
// 2. EKS Auth AssumeRoleForPodIdentity (the call the EKS Pod Identity Agent makes for a pod;
//    validated against botocore's `eks-auth` model): the cluster exists (ResourceNotFoundException);
//    the token is the cluster's: a TokenReview on the cluster's API server with the audience
//    `pods.eks.amazonaws.com` (signature by the cluster's key, expiry — ExpiredTokenException —,
//    audience, and the pod it is bound to still existing: InvalidTokenException otherwise); the
//    token must be bound to a pod (EKS Pod Identity tags the session with the pod's name and uid,
//    which only a pod-bound token carries); an association must exist for the token's namespace
//    and service account (ResourceNotFoundException); the role's trust policy must allow the service
//    principal `pods.eks.amazonaws.com` both `sts:AssumeRole` and `sts:TagSession` (unless the
//    association disables session tags) with `aws:SourceAccount` = the cluster's account,
//    `aws:SourceArn` = the cluster's ARN and the six session tags as `aws:RequestTag/…`
//    (`aws:TagKeys`), evaluated by the independent engine (iam-engine.ts) → AccessDeniedException.
//    Only then does moto issue the credentials (sts:AssumeRole as the sandbox admin, with the
//    session tags); the gate remembers their access key, so ECR calls made with them are checked
//    against the role's policies (gate-ecr.ts) like web-identity credentials.
//
// Rooms: gate-eks-base.ts (types, moto's EKS, the rest-json wire), gate-eks-associations.ts,
// gate-eks-auth.ts.
import { EksAssociations } from './gate-eks-associations.js';
import { EksAuth } from './gate-eks-auth.js';
import type { GateOutcome, GateRequest } from './gate-wire.js';

export { POD_IDENTITY_AUDIENCE, POD_IDENTITY_SERVICE, SESSION_TAG_KEYS, type Association, type EksClusterSpec } from './gate-eks-base.js';

export class EksGate extends EksAssociations {
  private readonly auth = new EksAuth(this);

  /** EKS Auth: AssumeRoleForPodIdentity. */
  handleAuth(req: GateRequest): Promise<GateOutcome> {
    return this.auth.handle(req);
  }
}
