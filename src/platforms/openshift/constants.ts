// Where OpenShift's pods find their own service-account token for a cloud (no webhook: the
// deployment names it). The StackRox charts mount it from 4.4 on; older installs get it from us.

export const OPENSHIFT_TOKEN_DIR = '/var/run/secrets/openshift/serviceaccount';
export const OPENSHIFT_TOKEN_FILE = `${OPENSHIFT_TOKEN_DIR}/token`;
export const OPENSHIFT_TOKEN_VOLUME = 'openshift-sa-token';
/** The audience of that token (RHACS mounts it with audience `openshift`). */
export const OPENSHIFT_AUDIENCE = 'openshift';
/** Lifetime of the projected token we mount (as the StackRox charts mount theirs). */
export const TOKEN_EXPIRATION_SECONDS = 3600;
