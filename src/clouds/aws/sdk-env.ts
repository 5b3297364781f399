/**
 * Settings for the AWS SDK that must be in place before its first client is made. Imported for its
 * effect by every module that makes clients.
 *
 * The SDK warns on every run under Node 20 that its releases from January 2027 on will need Node 22
 * (an eight-line process warning on stderr). rhacs-sts ships the SDK versions it was built and tested
 * with, which support Node 20, so the warning is about releases it does not use and tells its user
 * nothing they can act on: it is turned off, unless the user has set the variable themselves.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
