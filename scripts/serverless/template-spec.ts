// Checks a packaged CloudFormation template against the CloudFormation resource specification that
// @aws-cdk/aws-service-spec ships (no AWS account needed): every resource type and property exists, required
// properties are present, values have the property's type, and every Fn::GetAtt names a resource of the
// template and an attribute its type has. Intrinsics stand for any value where a value may be computed.
// `npm run package` runs it on .serverless/cloudformation-template-update-stack.json.
import { readFileSync } from 'node:fs';
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { PropertyType, ResourceProperties, SpecDatabase } from '@aws-cdk/service-spec-types';

interface Template {
  readonly Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** The functions CloudFormation evaluates in place of a value. */
const INTRINSICS = new Set([
  'Ref',
  'Condition',
  'Fn::GetAtt',
  'Fn::Sub',
  'Fn::Join',
  'Fn::Select',
  'Fn::Split',
  'Fn::FindInMap',
  'Fn::GetAZs',
  'Fn::ImportValue',
  'Fn::Base64',
  'Fn::Cidr',
  'Fn::Length',
  'Fn::ToJsonString',
  'Fn::Equals',
  'Fn::And',
  'Fn::Or',
  'Fn::Not',
]);

let database: SpecDatabase | undefined;
/** The specification, loaded once (about a second). */
export function specification(): SpecDatabase {
  database ??= loadAwsServiceSpecSync();
  return database;
}

/** Every problem of the template, one line each (`Resource.Property: what`); empty when it checks out. */
export function templateProblems(template: Template, db: SpecDatabase = specification()): string[] {
  const problems: string[] = [];
  const resources = template.Resources ?? {};
  const typeOf = (logicalId: string) => resources[logicalId]?.Type;
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type.startsWith('Custom::')) continue;
    const [spec] = db.lookup('resource', 'cloudFormationType', 'equals', resource.Type);
    if (spec === undefined) {
      problems.push(`${logicalId}: unknown resource type ${resource.Type}`);
      continue;
    }
    checkProperties(db, spec.properties, resource.Properties ?? {}, logicalId, problems);
  }
  for (const [logicalId, attribute, at] of getAtts(template)) {
    const type = typeOf(logicalId);
    if (type === undefined) {
      problems.push(`${at}: Fn::GetAtt names ${logicalId}, which the template does not have`);
      continue;
    }
    const [spec] = db.lookup('resource', 'cloudFormationType', 'equals', type);
    if (spec !== undefined && !(attribute in spec.attributes)) {
      problems.push(`${at}: ${type} has no attribute ${attribute}`);
    }
  }
  return problems;
}

function checkProperties(
  db: SpecDatabase,
  spec: ResourceProperties,
  value: unknown,
  at: string,
  problems: string[],
): void {
  if (isIntrinsic(value)) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${at}: expected an object, got ${describe(value)}`);
    return;
  }
  const given = value as Record<string, unknown>;
  for (const [name, property] of Object.entries(spec)) {
    if (property.required && !(name in given)) problems.push(`${at}.${name}: required, missing`);
  }
  for (const [name, member] of Object.entries(given)) {
    const property = spec[name];
    if (property === undefined) {
      problems.push(`${at}.${name}: no such property`);
      continue;
    }
    const types = [property.type, ...(property.previousTypes ?? [])];
    checkAny(db, types, member, `${at}.${name}`, problems);
  }
}

/** A value passes when it matches any of the types (a union, or a type the property had before). */
function checkAny(
  db: SpecDatabase,
  types: readonly PropertyType[],
  value: unknown,
  at: string,
  problems: string[],
) {
  const attempts = types.map((type) => {
    const found: string[] = [];
    checkValue(db, type, value, at, found);
    return found;
  });
  const best = attempts.reduce((fewest, found) => (found.length < fewest.length ? found : fewest));
  problems.push(...best);
}

function checkValue(
  db: SpecDatabase,
  type: PropertyType,
  value: unknown,
  at: string,
  problems: string[],
): void {
  if (isIntrinsic(value)) {
    const branches = (value as Record<string, unknown>)['Fn::If'];
    if (Array.isArray(branches)) {
      for (const branch of branches.slice(1))
        if (!isNoValue(branch)) checkValue(db, type, branch, at, problems);
    }
    return;
  }
  const wrong = (expected: string) => {
    problems.push(`${at}: expected ${expected}, got ${describe(value)}`);
  };
  switch (type.type) {
    case 'string':
    case 'date-time':
      if (!['string', 'number', 'boolean'].includes(typeof value)) wrong('a string');
      return;
    case 'number':
    case 'integer':
      if (
        !(
          typeof value === 'number' ||
          (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
        )
      ) {
        wrong(`${type.type === 'integer' ? 'an integer' : 'a number'}`);
      } else if (type.type === 'integer' && !Number.isInteger(Number(value))) wrong('an integer');
      return;
    case 'boolean':
      if (!(typeof value === 'boolean' || value === 'true' || value === 'false')) wrong('a boolean');
      return;
    case 'json':
    case 'null':
      return;
    case 'tag':
      checkProperties(db, TAG, value, at, problems);
      return;
    case 'array':
      if (!Array.isArray(value)) {
        wrong('a list');
        return;
      }
      for (const [index, element] of value.entries()) {
        checkValue(db, type.element, element, `${at}[${index}]`, problems);
      }
      return;
    case 'map':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        wrong('a map');
        return;
      }
      for (const [key, member] of Object.entries(value))
        checkValue(db, type.element, member, `${at}.${key}`, problems);
      return;
    case 'union':
      checkAny(db, type.types, value, at, problems);
      return;
    case 'ref': {
      const definition = db.get('typeDefinition', type.reference.$ref);
      checkProperties(db, definition.properties, value, at, problems);
      return;
    }
  }
}

const TAG: ResourceProperties = {
  Key: { type: { type: 'string' }, required: true },
  Value: { type: { type: 'string' }, required: true },
};

function isIntrinsic(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (INTRINSICS.has(keys[0]!) || keys[0] === 'Fn::If');
}

function isNoValue(value: unknown): boolean {
  return (value as { Ref?: unknown } | null)?.Ref === 'AWS::NoValue';
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}

/** Every Fn::GetAtt of the template: target, attribute, and where it stands. */
function getAtts(template: Template): [string, string, string][] {
  const found: [string, string, string][] = [];
  const walk = (value: unknown, at: string) => {
    if (Array.isArray(value)) {
      for (const [index, member] of value.entries()) walk(member, `${at}[${index}]`);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, member] of Object.entries(value)) {
      if (key === 'Fn::GetAtt') {
        const [target, attribute] = Array.isArray(member) ? member : String(member).split('.');
        if (typeof target === 'string' && typeof attribute === 'string') found.push([target, attribute, at]);
      } else walk(member, `${at}.${key}`);
    }
  };
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) walk(resource, logicalId);
  return found;
}

if (process.argv[1]?.endsWith('template-spec.ts')) {
  const file = process.argv[2] ?? '.serverless/cloudformation-template-update-stack.json';
  const problems = templateProblems(JSON.parse(readFileSync(file, 'utf8')) as Template);
  for (const problem of problems) console.error(problem);
  console.log(
    `${file}: ${problems.length === 0 ? 'matches' : `${problems.length} problems against`} the CloudFormation resource specification`,
  );
  if (problems.length > 0) process.exitCode = 1;
}
