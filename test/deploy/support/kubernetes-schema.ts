// Offline validation of rendered Kubernetes objects with the kubernetes-models packages: the
// model class of each apiVersion/kind validates types, required fields and enums against the
// API's OpenAPI schema. Those validators accept unknown fields, though, and a misspelt field
// (`readinesProbe`) is exactly the mistake a template makes, while `kubectl apply` rejects it
// (strict field validation). So unknownFields() also walks each object against the property
// lists the packages declare in their .d.ts files.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** The module of the model class for an apiVersion, without file extension. */
function modelModule(apiVersion: string, kind: string): string {
  if (apiVersion.startsWith('monitoring.coreos.com/')) return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  // The core group ("v1") has no group prefix in the package layout either.
  return `kubernetes-models/${apiVersion}/${kind}`;
}

type Model = new (data: unknown) => { validate(): void };

/** Runs the model's schema validation; resolves to error messages (empty when valid). */
export async function schemaErrors(object: KubernetesObject): Promise<string[]> {
  let module: Record<string, unknown>;
  try {
    module = (await import(modelModule(object.apiVersion, object.kind))) as Record<string, unknown>;
  } catch {
    return [`no model for ${object.apiVersion} ${object.kind}: an API the validation packages do not know`];
  }
  const ModelClass = module[object.kind] as Model;
  try {
    new ModelClass(object).validate();
    return [];
  } catch (err) {
    const details = (err as { errors?: { instancePath: string; message?: string }[] }).errors;
    return details?.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`) ?? [String(err)];
  }
}

type FieldType = { kind: 'leaf' } | { kind: 'object'; file: string } | { kind: 'array' | 'map'; of: FieldType };

const declarations = new Map<string, Map<string, FieldType> | null>();

/** The properties a model's .d.ts declares (own and inherited), or null for a non-object type. */
function propertiesOf(file: string): Map<string, FieldType> | null {
  const cached = declarations.get(file);
  if (cached !== undefined) return cached;
  const text = readFileSync(file, 'utf8');
  const imports = new Map<string, string>();
  for (const [, name, spec] of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
    imports.set(name!, spec!.startsWith('.') ? path.resolve(path.dirname(file), spec!.replace(/\.js$/, '.d.ts')) : declarationFile(spec!));
  }
  // The class lists every property, inherited ones included; the interface may only `extends`.
  const body = /export declare class \w+ extends Model<[^>]+>[^{]*\{([\s\S]*?)\n\s*constructor\(/.exec(text)?.[1];
  if (body === undefined) {
    declarations.set(file, null);
    return null;
  }
  const typeOf = (source: string): FieldType => {
    const array = /^Array<(.+)>$/.exec(source);
    if (array) return { kind: 'array', of: typeOf(array[1]!) };
    const map = /^\{\s*\[key: string\]: (.+?);\s*\}$/.exec(source);
    if (map) return { kind: 'map', of: typeOf(map[1]!) };
    const target = imports.get(source);
    return target === undefined ? { kind: 'leaf' } : { kind: 'object', file: target };
  };
  const properties = new Map<string, FieldType>();
  // Properties: `"name"?: Type;` on one line, or a `{ [key: string]: T; }` map over several.
  for (const [, name, type] of body.matchAll(/^\s{4}"([^"]+)"\??: ((?:\{[\s\S]*?\n\s{4}\})|[^;\n]+);/gm)) {
    properties.set(name!, typeOf(type!.replace(/\s+/g, ' ').trim()));
  }
  declarations.set(file, properties);
  return properties;
}

function declarationFile(spec: string): string {
  return fileURLToPath(import.meta.resolve(spec)).replace(/\.js$/, '.d.ts');
}

/** Paths of fields the API does not declare, e.g. `spec.template.spec.containers[0].readinesProbe`. */
export function unknownFields(object: KubernetesObject): string[] {
  const found: string[] = [];
  const walk = (value: unknown, type: FieldType, at: string) => {
    if (value === null || value === undefined) return;
    if (type.kind === 'array' && Array.isArray(value)) value.forEach((item, i) => walk(item, type.of, `${at}[${i}]`));
    else if (type.kind === 'map' && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, type.of, `${at}.${k}`);
    else if (type.kind === 'object' && typeof value === 'object' && !Array.isArray(value)) {
      const properties = propertiesOf(type.file);
      if (properties === null) return;
      for (const [key, inner] of Object.entries(value)) {
        const field = properties.get(key);
        if (field === undefined) found.push(`${at === '' ? '' : `${at}.`}${key}`);
        else walk(inner, field, at === '' ? key : `${at}.${key}`);
      }
    }
  };
  walk(object, { kind: 'object', file: declarationFile(modelModule(object.apiVersion, object.kind)) }, '');
  return found;
}
