// What EKS's IRSA webhook (amazon-eks-pod-identity-webhook) reads: the role on the service account.

/** The service-account annotation the webhook turns into AWS_ROLE_ARN and a projected token (pods created after it). */
export const EKS_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';
/** The audience the webhook gives the token it projects, unless the service account names another. */
export const EKS_AUDIENCE_ANNOTATION = 'eks.amazonaws.com/audience';
