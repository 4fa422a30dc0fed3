// Every error leaves the API as JSON {statusCode, code, message}, with a stable code.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PostOfficeError, isDatabaseUnavailable } from '../errors.ts';
import { describePosition, jsonErrorOffset } from './json-position.ts';

const fastifyCodes: Record<string, PostOfficeError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
};

type AjvError = NonNullable<FastifyError['validation']>[number];

/** "body/to/1" + ajv's words → "to[1]: must be string". */
function describeValidation(error: AjvError, context: string | undefined): string {
  const path = error.instancePath
    .split('/')
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
  const params = error.params as Record<string, unknown>;
  const field = path === '' ? (context ?? 'body') : path;
  if (error.keyword === 'additionalProperty' || error.keyword === 'additionalProperties') {
    return `${field}: unknown field '${String(params.additionalProperty)}'`;
  }
  if (error.keyword === 'required') return `${path === '' ? '' : `${path}.`}${String(params.missingProperty)}: is required`;
  if (error.keyword === 'enum') return `${field}: must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
  return `${field}: ${error.message ?? 'is invalid'}`;
}

/**
 * Fastify's JSON parser drops the reason a body is not JSON; parsing the text again gives it,
 * and the scanner the position. V8's quote of the body is left out: it can be long. A body that
 * parses (one that sets __proto__) keeps Fastify's own error.
 */
export function describeInvalidJson(text: string, error: Error): Error {
  try {
    JSON.parse(text);
    return error;
  } catch (syntax) {
    const message = (syntax as Error).message;
    const reason = message.replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
    // V8's position where it gives one (it points past "1." where the scanner stops at "."), else the scanner's.
    const given = /in JSON at position (\d+)/.exec(message)?.[1];
    const offset = given === undefined ? jsonErrorOffset(text) : Number(given);
    const where = offset === -1 ? '' : ` ${describePosition(text, offset)}`;
    return new PostOfficeError('INVALID_JSON', `body: is not valid JSON${where}: ${reason}`);
  }
}

/** The messages Fastify gives for these are generic; ours say what to change. */
function transportError(code: PostOfficeError['code'], error: FastifyError, request: FastifyRequest): PostOfficeError {
  if (code === 'UNSUPPORTED_MEDIA_TYPE') {
    const sent = request.headers['content-type'];
    return new PostOfficeError(code, `body: must be sent as application/json (got ${sent === undefined ? 'no content-type' : `content-type ${sent}`})`);
  }
  if (code === 'BODY_TOO_LARGE') {
    const limit = request.routeOptions.bodyLimit;
    return new PostOfficeError(code, `body: is larger than ${limit} bytes, the limit POST_OFFICE_MAX_BODY_BYTES sets`);
  }
  return new PostOfficeError(code, `body: ${error.message}`);
}

function toPostOfficeError(error: FastifyError, request: FastifyRequest): PostOfficeError {
  if (error instanceof PostOfficeError) return error;
  if (error.validation !== undefined && error.validation[0] !== undefined) {
    const context = error.validationContext === 'body' ? undefined : error.validationContext;
    return new PostOfficeError('VALIDATION_FAILED', describeValidation(error.validation[0], context));
  }
  const mapped = error.code === undefined ? undefined : fastifyCodes[error.code];
  if (mapped !== undefined) return transportError(mapped, error, request);
  if (error instanceof SyntaxError && error.statusCode === 400) return new PostOfficeError('INVALID_JSON', `body: ${error.message}`);
  if (isDatabaseUnavailable(error)) {
    return new PostOfficeError('DATABASE_UNAVAILABLE', 'database: unreachable, try again shortly', { cause: error, retryAfterSeconds: 5 });
  }
  return new PostOfficeError('INTERNAL', 'internal error; see the sidecar log', { cause: error });
}

export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const failure = toPostOfficeError(error, request);
  if (failure.code === 'INTERNAL') request.log.error({ err: error }, 'unexpected error');
  if (failure.retryAfterSeconds !== undefined) reply.header('retry-after', String(failure.retryAfterSeconds));
  return reply.code(failure.statusCode).send({ statusCode: failure.statusCode, code: failure.code, message: failure.message });
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({ statusCode: 404, code: 'NOT_FOUND', message: `route: ${request.method} ${request.url} does not exist` });
}
