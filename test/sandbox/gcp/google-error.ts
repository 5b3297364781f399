// Google's error shape (google.rpc.Status over HTTP/JSON, AIP-193): `{error: {code, message, status,
// details}}`, with the HTTP status each canonical code maps to.

export type GoogleStatus =
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'ABORTED'
  | 'UNIMPLEMENTED'
  | 'INTERNAL';

const HTTP: Record<GoogleStatus, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
};

/** A refusal the stand-in answers in Google's shape. */
export class GoogleError extends Error {
  readonly httpStatus: number;
  /** Why, for the stand-ins' log only (Google does not say why a credential was refused). */
  reason?: string;
  constructor(
    readonly status: GoogleStatus,
    message: string,
    readonly details: unknown[] = [],
  ) {
    super(message);
    this.httpStatus = HTTP[status];
  }

  body(): { error: { code: number; message: string; status: GoogleStatus; details?: unknown[] } } {
    return {
      error: { code: this.httpStatus, message: this.message, status: this.status, ...(this.details.length ? { details: this.details } : {}) },
    };
  }
}

/** A BadRequest detail listing each field violation, as Google attaches to INVALID_ARGUMENT. */
export function badRequest(violations: { field: string; description: string }[]): unknown {
  return { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: violations };
}
