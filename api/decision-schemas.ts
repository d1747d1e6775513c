import { z } from 'zod';
import { instantSchema, staffIdSchema } from '../domain/ids';
import { decisionSchemas, promptKinds, type PromptKind } from '../domain/prompts';

/**
 * The body a caller sends to answer a prompt of each kind, derived from the decision
 * schema the workflow's `decide` update validates (domain/prompts.ts), so nothing about a
 * decision is defined twice: the prompt id comes from the path, and decidedBy and
 * decidedAt default to the caller and now. Used by the OpenAPI document (one schema per
 * kind), by each listed prompt's `answerSchema` link, and by the decision form of the pages.
 */
type AnswerOption = z.ZodObject<z.ZodRawShape>;

function requestOption(option: AnswerOption): AnswerOption {
  return option.omit({ promptId: true }).extend({ decidedBy: staffIdSchema.optional(), decidedAt: instantSchema.optional() }) as unknown as AnswerOption;
}

export function decisionRequestSchemaFor(kind: PromptKind): z.ZodType {
  const options = decisionSchemas[kind].options as unknown as AnswerOption[];
  const [first, ...rest] = options.map(requestOption);
  return rest.length === 0 ? (first as AnswerOption) : z.discriminatedUnion('decision', [first as AnswerOption, ...rest] as never);
}

/** The OpenAPI component name of a kind's decision body. */
export const decisionComponentName = (kind: PromptKind): string => `Decision.${kind}`;

/** Where a listed prompt's answer is described: a JSON pointer into the OpenAPI document. */
export const answerSchemaRef = (kind: PromptKind): string => `/v1/openapi.json#/components/schemas/${decisionComponentName(kind)}`;

/** Each kind's request body as JSON Schema (draft 2020-12), generated from zod. */
export function decisionJsonSchema(kind: PromptKind): Record<string, unknown> {
  return z.toJSONSchema(decisionRequestSchemaFor(kind), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

export const decisionRequestSchemasByKind = (): Record<PromptKind, z.ZodType> =>
  Object.fromEntries(promptKinds.map((kind) => [kind, decisionRequestSchemaFor(kind)])) as Record<PromptKind, z.ZodType>;
