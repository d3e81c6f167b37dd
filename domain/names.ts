/**
 * Strict name rules for everything that may end up in a remote command line: host, systemd unit,
 * GlusterFS volume and VM names. A name is checked against its rule (and against the inventory,
 * elsewhere) before any command is built; quoting (activities/quote.ts) is the second line of defence.
 *
 * Pure module: no Node APIs, workflows import it.
 */

export interface NameRule {
  /** What is named, for messages: "host name", "unit name", ... */
  readonly kind: string;
  /** Anchored, non-global (stateless) pattern. Length limits are part of the pattern. */
  readonly pattern: RegExp;
  /** Human rule, phrased to follow the value: `"x" must be ...`. */
  readonly description: string;
}

export const HOST_NAME_RULE: NameRule = {
  kind: 'host name',
  pattern: /^[a-z][a-z0-9-]{0,62}$/,
  description: "must be a lowercase DNS label: a letter, then lowercase letters, digits or '-', at most 63 characters (^[a-z][a-z0-9-]{0,62}$)",
};

export const VM_NAME_RULE: NameRule = {
  kind: 'VM name',
  pattern: /^[a-z][a-z0-9_-]{0,62}$/,
  description: "must be a lowercase letter, then lowercase letters, digits, '_' or '-', at most 63 characters (^[a-z][a-z0-9_-]{0,62}$)",
};

/** systemd's own limit for a unit name is 255 characters (UNIT_NAME_MAX 256 with the NUL). */
export const UNIT_NAME_MAX = 255;

export const UNIT_NAME_RULE: NameRule = {
  kind: 'unit name',
  // A leading '-' would be read as an option by systemctl/fleetctl: refused.
  pattern: /^(?=.{1,255}$)(?!-)[A-Za-z0-9:_.@-]+\.(?:service|target|timer)$/,
  description:
    "must be letters, digits, ':', '_', '.', '@' or '-' (not first), ending in .service, .target or .timer, at most 255 characters (^[A-Za-z0-9:_.@-]+\\.(service|target|timer)$)",
};

export const VOLUME_NAME_RULE: NameRule = {
  kind: 'volume name',
  // A leading '-' would be read as an option by gluster: refused.
  pattern: /^(?!-)[A-Za-z0-9_-]{1,64}$/,
  description: "must be 1 to 64 letters, digits, '_' or '-' (not first) (^[A-Za-z0-9_-]{1,64}$)",
};

const MAX_SHOWN = 64;

/** Thrown when a name breaks its rule. The message names the field, the value and the rule. */
export class InvalidNameError extends Error {
  readonly field: string;
  readonly value: unknown;
  readonly rule: NameRule;
  constructor(rule: NameRule, field: string, value: unknown) {
    super(InvalidNameError.describe(rule, field, value));
    this.name = 'InvalidNameError';
    this.field = field;
    this.value = value;
    this.rule = rule;
  }

  private static describe(rule: NameRule, field: string, value: unknown): string {
    if (typeof value !== 'string') {
      return `invalid ${rule.kind} in ${field}: expected a string, got ${value === null ? 'null' : typeof value}; a ${rule.kind} ${rule.description}`;
    }
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
    const more = value.length > MAX_SHOWN ? ` (${value.length} characters)` : '';
    return `invalid ${rule.kind} in ${field}: ${JSON.stringify(shown)}${more} ${rule.description}`;
  }
}

function check(rule: NameRule, value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || !rule.pattern.test(value)) throw new InvalidNameError(rule, field, value);
}

export function isHostName(value: unknown): value is string {
  return typeof value === 'string' && HOST_NAME_RULE.pattern.test(value);
}
export function isUnitName(value: unknown): value is string {
  return typeof value === 'string' && UNIT_NAME_RULE.pattern.test(value);
}
export function isVolumeName(value: unknown): value is string {
  return typeof value === 'string' && VOLUME_NAME_RULE.pattern.test(value);
}
export function isVmName(value: unknown): value is string {
  return typeof value === 'string' && VM_NAME_RULE.pattern.test(value);
}

export function assertHostName(value: unknown, field = 'host'): asserts value is string {
  check(HOST_NAME_RULE, value, field);
}
export function assertUnitName(value: unknown, field = 'unit'): asserts value is string {
  check(UNIT_NAME_RULE, value, field);
}
export function assertVolumeName(value: unknown, field = 'volume'): asserts value is string {
  check(VOLUME_NAME_RULE, value, field);
}
export function assertVmName(value: unknown, field = 'vm'): asserts value is string {
  check(VM_NAME_RULE, value, field);
}
