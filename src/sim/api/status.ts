// metav1.Status bodies as apimachinery's pkg/api/errors builds them, thrown as ApiError so
// every handler fails the same way and the server turns it into one JSON response.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  readonly status: Status;
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    };
    if (details) this.status.details = details;
  }
}

/** What a Status names: the resource plural and, for non-core groups, `plural.group`. */
export interface ResourceName {
  resource: string;
  group: string;
}

function qualified(r: ResourceName): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

function details(r: ResourceName, name: string, extra?: Partial<StatusDetails>): StatusDetails {
  return { name, ...(r.group ? { group: r.group } : {}), kind: r.resource, ...extra };
}

export const errors = {
  notFound: (r: ResourceName, name: string) =>
    new ApiError(404, 'NotFound', `${qualified(r)} "${name}" not found`, details(r, name)),

  pathNotFound: () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {}),

  alreadyExists: (r: ResourceName, name: string) =>
    new ApiError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, details(r, name)),

  conflict: (r: ResourceName, name: string) =>
    new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      details(r, name),
    ),

  invalid: (kindOrQualified: string, name: string, causes: StatusCause[]) => {
    const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
    return new ApiError(422, 'Invalid', `${kindOrQualified} "${name}" is invalid: ${text}`, {
      name,
      kind: kindOrQualified,
      causes,
    });
  },

  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),

  unsupportedMediaType: () =>
    new ApiError(
      415,
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    ),

  methodNotAllowed: (verb: string, r: ResourceName) =>
    new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`, {
      kind: r.resource,
      ...(r.group ? { group: r.group } : {}),
      causes: [{ message: verb }],
    }),

  unauthorized: () => new ApiError(401, 'Unauthorized', 'Unauthorized'),

  // The watch cache's answer to a resourceVersion older than it keeps: the client lists again.
  expired: (requested: string, oldest: string) =>
    new ApiError(410, 'Expired', `too old resource version: ${requested} (${oldest})`),

  unavailable: () =>
    new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'),

  // k8s.io/apiserver's timeout filter: the handler may still finish (and an etcd write commit) after this.
  timeout: () =>
    new ApiError(
      504,
      'Timeout',
      'Timeout: request did not complete within requested timeout - context deadline exceeded',
    ),

  // What an etcd leader election looks like to a client: the write was not committed.
  etcdTimeout: () =>
    new ApiError(500, 'InternalError', 'Internal error occurred: etcdserver: request timed out'),
};
