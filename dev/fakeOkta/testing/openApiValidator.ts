/*
 * Validates response bodies against the vendored Okta OpenAPI specs
 * (dev/fakeOkta/openapi), resolving $refs within each spec. OpenAPI 3.0's
 * `nullable` is understood by Ajv 8 natively; other OpenAPI-only keywords
 * (example, readOnly, x-*) are ignored with `strict: false`.
 */
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

type SpecName = 'management' | 'oauth';

interface JsonObject {
  [key: string]: any;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * A copy of a spec without `example`/`examples` (their values hold `$id`-like
 * URLs with templates that Ajv would try to resolve) and without `x-` keys.
 */
function withoutExamples(node: unknown): any {
  if (Array.isArray(node)) return node.map(withoutExamples);
  if (!node || typeof node !== 'object') return node;
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'example' || key === 'examples' || key.startsWith('x-'))
      continue;
    copy[key] = withoutExamples(value);
  }
  return copy;
}

export interface ValidationResult {
  /** Which spec schema was used, as `spec#/json/pointer`. */
  schema: string;
  /** True when the operation does not declare this status and ModelError/Error was used. */
  fallback: boolean;
  valid: boolean;
  errors: ErrorObject[];
  /** Readable errors, each with the instance path and the failing schema path. */
  message: string;
}

export class OktaOpenApiValidator {
  private readonly ajv: Ajv;
  private readonly specs: Record<SpecName, JsonObject>;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(dir = join(__dirname, '..', 'openapi')) {
    this.ajv = new Ajv({
      strict: false,
      allErrors: true,
      validateSchema: false,
      discriminator: false,
    });
    addFormats(this.ajv);
    const load = (file: string) =>
      withoutExamples(
        YAML.parse(readFileSync(join(dir, file), 'utf8'), {
          maxAliasCount: -1,
        }),
      );
    this.specs = {
      management: load('management.yaml'),
      oauth: load('oauth.yaml'),
    };
    this.ajv.addSchema(this.specs.management, 'management');
    this.ajv.addSchema(this.specs.oauth, 'oauth');
  }

  /** The JSON pointer of the response schema an operation declares for a status. */
  private responseSchemaPointer(
    spec: SpecName,
    path: string,
    method: string,
    status: number,
  ): string | undefined {
    const operation = this.specs[spec].paths?.[path]?.[method.toLowerCase()];
    if (!operation)
      throw new Error(`${spec} has no operation ${method} ${path}`);
    const response = operation.responses?.[String(status)];
    if (!response) return undefined;
    let pointer = `/paths/${escapePointer(path)}/${method.toLowerCase()}/responses/${status}`;
    let resolved = response;
    if (response.$ref) {
      pointer = response.$ref.slice(1);
      resolved = pointer
        .split('/')
        .slice(1)
        .reduce(
          (node: JsonObject, part: string) =>
            node[part.replace(/~1/g, '/').replace(/~0/g, '~')],
          this.specs[spec],
        );
    }
    if (!resolved?.content?.['application/json']?.schema) return undefined;
    return `${pointer}/content/application~1json/schema`;
  }

  /**
   * Validates a response body of `method path` (the spec's path template)
   * with `status`. Undeclared statuses fall back to the spec's error schema.
   */
  validateResponse(
    spec: SpecName,
    path: string,
    method: string,
    status: number,
    body: unknown,
  ): ValidationResult {
    let pointer = this.responseSchemaPointer(spec, path, method, status);
    const fallback = pointer === undefined;
    if (!pointer) {
      if (spec === 'management') pointer = '/components/schemas/ModelError';
      else if (status >= 400 && status < 429)
        pointer = '/components/schemas/OAuthError';
      else pointer = '/components/schemas/Error';
    }
    const id = `${spec}#${pointer}`;
    let validate = this.compiled.get(id);
    if (!validate) {
      validate = this.ajv.getSchema(id);
      if (!validate) throw new Error(`Cannot resolve ${id}`);
      this.compiled.set(id, validate);
    }
    const valid = validate(body) as boolean;
    const errors = validate.errors ? [...validate.errors] : [];
    const message = errors
      .map(e => {
        // Inside a $ref Ajv reports the path from the spec's root.
        const where = e.schemaPath.startsWith('#/components/')
          ? e.schemaPath
          : `#${pointer}${e.schemaPath.slice(1)}`;
        return `${e.instancePath || '(root)'} ${e.message} [schema ${spec}${where}]`;
      })
      .join('\n');
    return { schema: id, fallback, valid, errors, message };
  }
}
