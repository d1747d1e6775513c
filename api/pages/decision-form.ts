import { DateTime } from 'luxon';
import type { z } from 'zod';
import { decisionSchemas, type PromptKind } from '../../domain/prompts';
import { decisionJsonSchema } from '../decision-schemas';
import { humanise } from './render';

/**
 * The decision form of a prompt, generated from the JSON Schema of its kind's answer
 * (api/decision-schemas.ts, itself generated from the zod schema the `decide` update
 * validates): radios for the allowed decisions, each decision's own fields revealed under
 * it, and the rationale. A field added to a decision schema appears here by itself; the
 * form is never a second definition of a decision. This module also turns the posted form
 * back into a decision and zod's issues into GOV.UK error messages naming each field.
 */
type JsonSchema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  format?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  propertyNames?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
};

/**
 * A list of entries (a child in need plan's services, action points, review dates): this many
 * rows are shown, as many more as were posted, and rows left empty are left out. No
 * JavaScript is needed; a list longer than the rows goes through the API.
 */
export const LIST_ROWS = 3;

export interface ChoiceOption {
  value: string;
  label: string;
  checked: boolean;
  /** Fields shown when this option is chosen (GOV.UK conditional reveal; all shown without JavaScript). */
  fields: FormField[];
}

export type FormField =
  | { type: 'choice'; id: string; name: string; label: string; hint?: string; optional: boolean; options: ChoiceOption[]; error?: string; inline: boolean }
  | { type: 'multi'; id: string; name: string; label: string; hint?: string; optional: boolean; options: Array<{ value: string; label: string; checked: boolean }>; error?: string }
  | { type: 'text'; id: string; name: string; label: string; hint?: string; optional: boolean; value: string; error?: string; inputType: 'text' | 'number' | 'datetime-local'; multiline: boolean }
  | { type: 'group'; id: string; label: string; hint?: string; fields: FormField[]; error?: string };

export interface DecisionForm {
  decision: FormField & { type: 'choice' };
  rationale: FormField & { type: 'text' };
  /** The GOV.UK error summary: each error names its field and links to it. */
  errors: Array<{ text: string; href: string }>;
}

/** What the engine fills in itself: never a form field. */
const FILLED_BY_ENGINE = new Set(['decision', 'promptId', 'rationale', 'decidedBy', 'decidedAt']);

/** Posted values: nested objects and lists of rows from bracketed names (qs), strings or lists of strings at the leaves. */
export type Posted = { [key: string]: Posted | Posted[] | string | string[] | undefined };

const asPosted = (value: unknown): Posted => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Posted) : {});
const asString = (value: unknown): string => (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : '');
/** A posted list of rows: qs gives an array for small indices and an object keyed by index for large ones. */
const asRows = (value: unknown): unknown[] => {
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .filter(([key]) => /^\d+$/.test(key))
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, row]) => row);
  }
  return [];
};
/** "services" → "Service 1": the label of a list's row. */
const rowLabel = (listLabel: string, index: number) => `${listLabel.replace(/ies$/, 'y').replace(/s$/, '')} ${index + 1}`;

function options(schema: JsonSchema): JsonSchema[] {
  return schema.oneOf ?? schema.anyOf ?? [schema];
}

/** A union of objects told apart by one property that is a constant in each (e.g. `met`: true or false). */
function discriminatorOf(branches: JsonSchema[]): string | undefined {
  const first = branches[0]?.properties ?? {};
  return Object.keys(first).find((key) => branches.every((branch) => branch.properties?.[key]?.const !== undefined));
}

const idOf = (path: string[]) => `f-${path.join('-')}`.replace(/[^A-Za-z0-9_-]/g, '-');
const nameOf = (path: string[]) => `fields${path.map((part) => `[${part}]`).join('')}`;
const pathKey = (path: readonly (string | number | symbol)[]) => path.map(String).join('.');

/** One field of the form from its JSON Schema, with the posted value and any error (by path). */
/** A code's label: the description its schema carries (census codes), else the value made readable. */
function optionLabel(schema: JsonSchema | undefined, value: unknown): string {
  const labels = (schema as { 'x-option-labels'?: Record<string, string> } | undefined)?.['x-option-labels'];
  return labels?.[String(value)] ?? humanise(value);
}

function fieldOf(schema: JsonSchema, path: string[], label: string, optional: boolean, posted: unknown, errors: Map<string, string>): FormField {
  const id = idOf(path);
  const error = errors.get(pathKey(path));
  const hint = schema.description;
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches && branches.every((branch) => branch.type === 'object')) {
    const key = discriminatorOf(branches);
    if (key) {
      const chosen = asString(asPosted(posted)[key]);
      return {
        type: 'choice',
        id: idOf([...path, key]),
        name: nameOf([...path, key]),
        label,
        ...(hint ? { hint } : {}),
        optional,
        inline: false,
        ...(error || errors.get(pathKey([...path, key])) ? { error: error ?? errors.get(pathKey([...path, key])) } : {}),
        options: branches.map((branch) => {
          const value = String(branch.properties?.[key]?.const);
          return {
            value,
            label: value === 'true' ? 'Yes' : value === 'false' ? 'No' : humanise(value),
            checked: chosen === value,
            fields: objectFields(branch, path, chosen === value ? posted : undefined, errors, new Set([key])),
          };
        }),
      };
    }
  }
  if (schema.type === 'object' && schema.properties) {
    return { type: 'group', id, label, ...(hint ? { hint } : {}), fields: objectFields(schema, path, posted, errors), ...(error ? { error } : {}) };
  }
  if (schema.type === 'object' && schema.propertyNames?.enum && typeof schema.additionalProperties === 'object') {
    // A record with named keys (e.g. the sign-off checklist): one part per key.
    const each = schema.additionalProperties;
    const values = asPosted(posted);
    return {
      type: 'group',
      id,
      label,
      ...(hint ? { hint } : {}),
      ...(error ? { error } : {}),
      fields: schema.propertyNames.enum.map((key) => fieldOf(each, [...path, String(key)], humanise(key), false, values[String(key)], errors)),
    };
  }
  if (schema.type === 'array' && schema.items && !schema.items.enum) {
    // A list of free entries (objects or texts): numbered rows, each an optional part.
    const rows = asRows(posted);
    const count = Math.min(schema.maxItems ?? LIST_ROWS, Math.max(LIST_ROWS, rows.length));
    const each = schema.items;
    return {
      type: 'group',
      id,
      label,
      hint: [hint, `Fill in as many as apply${schema.minItems ? ` (at least ${schema.minItems})` : ''}; leave the rest empty.`].filter(Boolean).join(' '),
      ...(error ? { error } : {}),
      fields: Array.from({ length: count }, (_, index) => fieldOf(each, [...path, String(index)], rowLabel(label, index), true, rows[index], errors)),
    };
  }
  if (schema.type === 'array' && schema.items?.enum) {
    const chosen = Array.isArray(posted) ? posted.map(String) : typeof posted === 'string' ? [posted] : [];
    return {
      type: 'multi',
      id,
      name: `${nameOf(path)}[]`,
      label,
      ...(hint ? { hint } : {}),
      optional,
      ...(error ? { error } : {}),
      options: schema.items.enum.map((value) => ({ value: String(value), label: optionLabel(schema.items, value), checked: chosen.includes(String(value)) })),
    };
  }
  if (schema.type === 'boolean' || schema.enum) {
    const values = schema.type === 'boolean' ? ['true', 'false'] : (schema.enum ?? []).map(String);
    const chosen = asString(posted);
    return {
      type: 'choice',
      id,
      name: nameOf(path),
      label,
      ...(hint ? { hint } : {}),
      optional,
      inline: schema.type === 'boolean',
      ...(error ? { error } : {}),
      options: values.map((value) => ({ value, label: value === 'true' ? 'Yes' : value === 'false' ? 'No' : optionLabel(schema, value), checked: chosen === value, fields: [] })),
    };
  }
  const numeric = schema.type === 'integer' || schema.type === 'number';
  const instant = schema.format === 'date-time';
  return {
    type: 'text',
    id,
    name: nameOf(path),
    label,
    ...(hint ? { hint } : instant ? { hint: 'UK time, for example 23/11/2026 09:30' } : {}),
    optional,
    value: asString(posted),
    ...(error ? { error } : {}),
    inputType: numeric ? 'number' : instant ? 'datetime-local' : 'text',
    multiline: !numeric && !instant && (schema.maxLength ?? 0) > 200,
  };
}

function objectFields(schema: JsonSchema, path: string[], posted: unknown, errors: Map<string, string>, skip = new Set<string>()): FormField[] {
  const values = asPosted(posted);
  return Object.entries(schema.properties ?? {})
    .filter(([key]) => !skip.has(key) && !(path.length === 1 && FILLED_BY_ENGINE.has(key)))
    .map(([key, property]) => fieldOf(property, [...path, key], humanise(key), !(schema.required ?? []).includes(key), values[key], errors));
}

/** The decision's own fields (every option's), keyed by the decision value. */
function decisionOptions(kind: PromptKind): Array<{ decision: string; schema: JsonSchema }> {
  return options(decisionJsonSchema(kind) as JsonSchema).map((schema) => ({ decision: String(schema.properties?.decision?.const ?? schema.properties?.decision?.enum?.[0]), schema }));
}

export function buildDecisionForm(kind: PromptKind, posted: Posted = {}, errors: Map<string, string> = new Map()): DecisionForm {
  const chosen = asString(posted.decision);
  const fields = asPosted(posted.fields);
  const decision: DecisionForm['decision'] = {
    type: 'choice',
    id: 'decision',
    name: 'decision',
    label: 'Decision',
    optional: false,
    inline: false,
    ...(errors.get('decision') ? { error: errors.get('decision') } : {}),
    options: decisionOptions(kind).map(({ decision: value, schema }) => ({
      value,
      label: humanise(value),
      checked: chosen === value,
      fields: objectFields(schema, [value], fields[value], prefixed(errors, value)),
    })),
  };
  const rationale: DecisionForm['rationale'] = {
    type: 'text',
    id: 'rationale',
    name: 'rationale',
    label: 'Rationale',
    hint: 'Why you decided this. It is recorded with the decision.',
    optional: false,
    value: asString(posted.rationale),
    ...(errors.get('rationale') ? { error: errors.get('rationale') } : {}),
    inputType: 'text',
    multiline: true,
  };
  return { decision, rationale, errors: summary([decision, rationale]) };
}

/** Errors of one decision's fields are keyed `<decision>.<path>`; fields' paths start with the decision. */
function prefixed(errors: Map<string, string>, decision: string): Map<string, string> {
  return new Map([...errors].filter(([key]) => key.startsWith(`${decision}.`)).map(([key, message]) => [key, message]));
}

function summary(fields: FormField[]): Array<{ text: string; href: string }> {
  const found: Array<{ text: string; href: string }> = [];
  const visit = (field: FormField, trail: string[]) => {
    const named = [...trail, field.label].filter(Boolean);
    if (field.error) found.push({ text: `${named.join(': ')}: ${field.error}`, href: `#${field.id}` });
    const children = field.type === 'group' ? field.fields : field.type === 'choice' ? field.options.filter((option) => option.checked).flatMap((option) => option.fields) : [];
    for (const child of children) visit(child, field.id === 'decision' ? [] : named);
  };
  for (const field of fields) visit(field, []);
  return found;
}

/** Turns a posted value into what the JSON Schema asks for (numbers, booleans, UK times as instants); empty optional fields are left out. */
/** Whether anything was entered in a posted part of the form (a non-blank text or a chosen value, at any depth). */
function anythingPosted(posted: unknown): boolean {
  if (typeof posted === 'string') return posted.trim() !== '';
  if (Array.isArray(posted)) return posted.some(anythingPosted);
  if (posted && typeof posted === 'object') return Object.values(posted).some(anythingPosted);
  return false;
}

function coerce(schema: JsonSchema, posted: unknown, required: boolean): unknown {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches && branches.every((branch) => branch.type === 'object')) {
    const key = discriminatorOf(branches);
    const values = asPosted(posted);
    const branch = key ? branches.find((candidate) => String(candidate.properties?.[key]?.const) === asString(values[key])) : undefined;
    if (!branch) return required ? {} : undefined;
    return coerceObject(branch, values);
  }
  if (schema.type === 'object' && schema.properties) {
    // An optional part left wholly empty (e.g. a child in need plan with another outcome) is left out, not sent half-made.
    if (!required && !anythingPosted(posted)) return undefined;
    return coerceObject(schema, asPosted(posted));
  }
  if (schema.type === 'object' && schema.propertyNames?.enum && typeof schema.additionalProperties === 'object') {
    const each = schema.additionalProperties;
    const values = asPosted(posted);
    return Object.fromEntries(schema.propertyNames.enum.map((key) => [String(key), coerce(each, values[String(key)], true)]));
  }
  if (schema.type === 'array' && schema.items && !schema.items.enum) {
    const each = schema.items;
    const list = asRows(posted)
      .map((row) => coerce(each, row, false))
      .filter((value) => value !== undefined);
    return list.length === 0 && !required ? undefined : list;
  }
  if (schema.type === 'array') {
    const list = Array.isArray(posted) ? posted.map(String) : typeof posted === 'string' && posted !== '' ? [posted] : [];
    return list.length === 0 && !required ? undefined : list;
  }
  const text = asString(posted).trim();
  if (text === '' && (!required || schema.type !== 'string' || schema.enum || schema.format)) return undefined;
  if (schema.type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  if (schema.type === 'integer' || schema.type === 'number') return Number.isNaN(Number(text)) ? text : Number(text);
  if (schema.format === 'date-time') {
    const at = DateTime.fromISO(text, { zone: 'Europe/London' });
    return at.isValid ? at.toUTC().toISO({ suppressMilliseconds: true }) : text;
  }
  return asString(posted);
}

function coerceObject(schema: JsonSchema, values: Posted): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (FILLED_BY_ENGINE.has(key) && key !== 'decision') continue;
    if (property.const !== undefined) {
      result[key] = property.const;
      continue;
    }
    const value = coerce(property, values[key], (schema.required ?? []).includes(key));
    if (value !== undefined) result[key] = value;
  }
  return result;
}

/** The decision a posted form makes (without promptId, decidedBy, decidedAt: the engine fills those). */
export function decisionFromForm(kind: PromptKind, posted: Posted): { decision: string; rationale: string } & Record<string, unknown> {
  const chosen = asString(posted.decision);
  const option = decisionOptions(kind).find((candidate) => candidate.decision === chosen);
  const fields = option ? coerceObject(option.schema, asPosted(asPosted(posted.fields)[chosen])) : {};
  return { ...fields, decision: chosen, rationale: asString(posted.rationale) };
}

/**
 * zod's issues for the decision (parsed with its kind's schema) as form errors, keyed by
 * field path (`<decision>.checklist.<item>.reason`, `rationale`, `decision`), each said as
 * GOV.UK error messages say it.
 */
export function formErrors(kind: PromptKind, decision: Record<string, unknown>, issues: z.core.$ZodIssue[]): Map<string, string> {
  const errors = new Map<string, string>();
  const chosen = typeof decision.decision === 'string' ? decision.decision : '';
  for (const issue of issues) {
    const [head] = issue.path;
    if (head === 'decision' || issue.path.length === 0) {
      errors.set('decision', 'Select a decision');
      continue;
    }
    if (head === 'rationale') {
      errors.set('rationale', issue.code === 'invalid_type' || issue.code === 'too_small' ? 'Enter the rationale for your decision' : issue.message);
      continue;
    }
    if (head === 'promptId' || head === 'decidedBy' || head === 'decidedAt') {
      errors.set('decision', issue.message);
      continue;
    }
    const key = [chosen, ...issue.path.map(String)].join('.');
    if (errors.has(key)) continue;
    errors.set(key, messageOf(issue));
  }
  void kind;
  return errors;
}

function messageOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union') return 'Select an answer';
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return issue.expected === 'string' || issue.expected === 'number' ? 'Enter an answer' : 'Select an answer';
  return issue.message;
}

/** The zod schema the update validates, for this kind. */
export const schemaOf = (kind: PromptKind) => decisionSchemas[kind];
