import type { Prompt } from './prompts';

/**
 * The `OpenPromptsDue` search attribute: one entry per open prompt, `<due instant>~<kind>-<n>`
 * (the prompt id without its workflow id), so a prompt list can order and page every open
 * prompt from the visibility rows alone and then query only the workflows of one page.
 * The instant is fixed-width UTC ISO 8601 (`2026-11-23T17:00:00.000Z`: years 2000 to 2099),
 * so entries sort as text in due order; a prompt without a due time has `~` in its place,
 * which sorts after every digit. Only kinds, sequence numbers and instants: nothing about a
 * person reaches visibility.
 */
export const NO_DUE_TIME = '~';

/**
 * At most this many entries (the earliest due): Temporal refuses a search attribute value
 * over 2 KB (`limit.searchAttributesSizeOfValue`), and an entry is at most 58 bytes. A case
 * has a handful of prompts open at once; one with more shows its earliest 25 in the list.
 */
export const OPEN_PROMPTS_DUE_LIMIT = 25;

export interface OpenPromptDue {
  /** `<kind>-<n>`: the prompt id is `<workflowId>~<localId>`. */
  localId: string;
  kind: string;
  /** The due instant, or undefined for a prompt without one. */
  dueBy?: string;
}

const fixedWidth = (instant: string) => new Date(Date.parse(instant)).toISOString();

export function openPromptsDueEntries(prompts: readonly Pick<Prompt, 'promptId' | 'dueBy' | 'status'>[]): string[] {
  return prompts
    .filter((prompt) => prompt.status === 'open')
    .map((prompt) => `${prompt.dueBy ? fixedWidth(prompt.dueBy) : NO_DUE_TIME}~${prompt.promptId.slice(prompt.promptId.lastIndexOf('~') + 1)}`)
    .sort()
    .slice(0, OPEN_PROMPTS_DUE_LIMIT);
}

/** An entry read back from visibility; undefined for one this code did not write. */
export function parseOpenPromptDue(entry: string): OpenPromptDue | undefined {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z|~)~([a-z0-9-]+)-(\d+)$/.exec(entry);
  if (!match) return undefined;
  const [, due, kind, sequence] = match as unknown as [string, string, string, string];
  return { localId: `${kind}-${sequence}`, kind, ...(due === NO_DUE_TIME ? {} : { dueBy: due }) };
}
