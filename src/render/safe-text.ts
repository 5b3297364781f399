/**
 * Text that reaches a terminal or a log: values come from flags, config files, clusters and
 * servers, and any of them may carry escape sequences (a window title, a cleared screen, a forged
 * line) or, in a server's reflected error text, credentials. Two functions, applied where text is
 * written (the Ui, the entry point's error report, Central's error text):
 *
 * - `printable` escapes C0 and C1 control characters (and the bidirectional overrides), visibly,
 *   as \u001b and the like, which is also a valid escape inside a JSON string. Newlines and tabs
 *   stay. Where we colour the output ourselves, SGR colour sequences are kept.
 * - `redact` replaces credentials in server text: Authorization / Cookie header values, Basic and
 *   Bearer credentials, JWTs, password= / token= pairs and passwords in URLs.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /\x1b\[[0-9;]*m|[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `s` with every control character escaped visibly; `keepColors` keeps SGR colour sequences. */
export function printable(s: string, o: { keepColors?: boolean } = {}): string {
  return s.replace(CONTROL, (m) => (m.length > 1 ? (o.keepColors ? m : escape(m[0]!) + m.slice(1)) : escape(m)));
}

const REDACTED = '[redacted]';

const RULES: [RegExp, string][] = [
  // A header as a proxy echoes it: "Authorization: Basic …", "cookie=…", "X-Api-Key": "…".
  [/\b((?:proxy-)?authorization|cookie|set-cookie|x-api-key|x-amz-security-token|x-auth-token)("?\s*[:=]\s*"?)[^"\r\n]+/gi, `$1$2${REDACTED}`],
  // An authentication scheme with its credential (which has a digit, "=" or "." unlike a word).
  [/\b(Basic|Bearer)(\s+)(?=[\w+/.~-]*[\d=.])[\w+/.~-]{6,}=*/gi, `$1$2${REDACTED}`],
  // A JSON Web Token anywhere.
  [/\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g, REDACTED],
  // password=… and "password": "…" (query strings, form bodies, JSON).
  [/(?<![a-z0-9])((?:admin[_-]?)?password|passwd|pwd|secret|client[_-]?secret|(?:access|refresh|id|api|session)?[_-]?token|api[_-]?key)(=|"\s*:\s*")[^\s"&,;]+/gi, `$1$2${REDACTED}`],
  // Credentials in a URL: scheme://user:password@host.
  [/\b([a-z][\w+.-]*:\/\/[^\s/:@"]+:)[^\s/@"]+@/gi, `$1${REDACTED}@`],
];

/** Server text with the credentials in it replaced by "[redacted]". */
export function redact(s: string): string {
  let out = s;
  for (const [re, to] of RULES) out = out.replace(re, to);
  return out;
}

/** Text from a server, made safe to print: credentials redacted, control characters escaped. */
export function serverText(s: string): string {
  return printable(redact(s));
}
