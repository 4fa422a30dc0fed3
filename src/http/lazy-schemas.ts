// Fastify compiles every route's schemas when it starts: an Ajv validator for each body, query,
// params and headers schema, a fast-json-stringify serializer for each response. For the API's
// twenty routes that is about 5 MiB of resident memory, and an application calls a few of them.
// These factories hand Fastify its own compilers (@fastify/ajv-compiler and
// @fastify/fast-json-stringify-compiler, with the same options) wrapped so that a route's schema
// is compiled the first time a request needs it: what is accepted, refused and sent is unchanged.
// The price is paid once per route and process: on the development machine the first
// POST /v1/emails takes about 60 ms more.
// Every route's schemas are exercised by the tests, so a broken schema still fails there.
//
// One difference from Fastify's built-in path: with a compiler of its own, Fastify does not
// lower-case the property names of headers schemas (Node's are), so a route with an upper-case
// one fails at start here rather than never matching.
import ajvCompiler from '@fastify/ajv-compiler';
import { SerializerSelector, type SerializerCompiler } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type ValidatorFactory = ReturnType<typeof ajvCompiler>;
type Validator = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown };
type RouteSchema = Parameters<ReturnType<ValidatorFactory>>[0];

const buildValidator = ajvCompiler();
const buildSerializer = SerializerSelector();

/** A validator factory whose validators compile on first use. */
const lazyValidators: ValidatorFactory = (externalSchemas, options) => {
  let compiler: ReturnType<ValidatorFactory> | undefined;
  return (routeSchema: RouteSchema) => {
    const names = routeSchema.httpPart === 'headers' ? Object.keys((routeSchema.schema as { properties?: object }).properties ?? {}) : [];
    const upper = names.find((name) => name !== name.toLowerCase());
    if (upper !== undefined) throw new Error(`${routeSchema.method} ${routeSchema.url}: headers schema property '${upper}' must be lower case`);
    let compiled: Validator | undefined;
    const validate: Validator = (data, context) => {
      compiled ??= (compiler ??= buildValidator(externalSchemas, options))(routeSchema) as Validator;
      const valid = compiled(data, context);
      validate.errors = compiled.errors;
      return valid;
    };
    // Fastify then passes the request as Ajv's parentData, as it does for Ajv's own functions.
    validate.schemaEnv = true;
    return validate as ReturnType<ReturnType<ValidatorFactory>>;
  };
};

/** A serializer factory whose serializers compile on first use. */
const lazySerializers: typeof buildSerializer = (externalSchemas, options) => {
  let compiler: SerializerCompiler | undefined;
  return (routeDefinition) => {
    let serialize: ((doc: unknown) => string) | undefined;
    return (doc) => (serialize ??= (compiler ??= buildSerializer(externalSchemas, options))(routeDefinition))(doc);
  };
};

/** Fastify's `schemaController` option: its own compilers, compiling on first use. */
export const lazySchemaController = {
  compilersFactory: { buildValidator: lazyValidators, buildSerializer: lazySerializers },
} as FastifyServerOptions['schemaController'];
