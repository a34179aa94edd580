/**
 * Failure kinds that cross module boundaries. Each maps to one HTTP status and one CLI exit
 * code, so a client's mistake is a 400 and exit 2, never a 500 or a stack trace.
 */
export class DroverError extends Error {
  constructor(message: string, readonly status: number, readonly code: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request names a field wrongly; `field` is its path in the request body or query. */
export class BadRequestError extends DroverError {
  constructor(message: string, readonly field?: string) {
    super(field ? `${field}: ${message}` : message, 400, "bad_request");
  }
}

export class NotFoundError extends DroverError {
  constructor(message: string) {
    super(message, 404, "not_found");
  }
}

export class ForbiddenError extends DroverError {
  constructor(message: string) {
    super(message, 403, "forbidden");
  }
}

export class ConflictError extends DroverError {
  constructor(message: string) {
    super(message, 409, "conflict");
  }
}
