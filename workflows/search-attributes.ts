/**
 * Custom search attributes every procedure keeps up to date, so an operator can find in the
 * Web UI (or `hvflow list`) what runs where and what waits for them:
 *   HvflowAwaitingApproval = true  ->  procedures parked on a gate.
 * The server must know them: the dev server registers them at start, docker-compose does it
 * with `temporal operator search-attribute create`.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTE } from '../domain/contract';

export const PROCEDURE = defineSearchAttributeKey(SEARCH_ATTRIBUTE.procedure, SearchAttributeType.KEYWORD);
export const CLUSTER = defineSearchAttributeKey(SEARCH_ATTRIBUTE.cluster, SearchAttributeType.KEYWORD);
export const TARGET = defineSearchAttributeKey(SEARCH_ATTRIBUTE.target, SearchAttributeType.KEYWORD);
export const PHASE = defineSearchAttributeKey(SEARCH_ATTRIBUTE.phase, SearchAttributeType.KEYWORD);
export const AWAITING_APPROVAL = defineSearchAttributeKey(SEARCH_ATTRIBUTE.awaitingApproval, SearchAttributeType.BOOL);

export const ALL_SEARCH_ATTRIBUTES = [PROCEDURE, CLUSTER, TARGET, PHASE, AWAITING_APPROVAL];

/** `--search-attribute` values for `temporal server start-dev` and `temporal operator search-attribute create`. */
export function searchAttributeFlags(): string[] {
  const typeName: Record<string, string> = { KEYWORD: 'Keyword', BOOL: 'Bool', TEXT: 'Text', INT: 'Int' };
  return ALL_SEARCH_ATTRIBUTES.map((k) => `${k.name}=${typeName[k.type] ?? k.type}`);
}
