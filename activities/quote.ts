/**
 * The ONE quoting helper. Every command that reaches a remote shell is built here from an argv.
 *
 * POSIX single-quote style: inside '...' nothing is special; a single quote is written '\''.
 * Words made only of safe characters are left bare so that logs stay readable.
 */

/** Characters that never need quoting in any POSIX shell word position but the first (see buildCommand). */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Words the shell parses specially when they start a command; argv[0] must never be one, bare. */
const RESERVED_WORDS = new Set([
  '!',
  '{',
  '}',
  '[[',
  ']]',
  'case',
  'coproc',
  'do',
  'done',
  'elif',
  'else',
  'esac',
  'fi',
  'for',
  'function',
  'if',
  'in',
  'select',
  'then',
  'time',
  'until',
  'while',
]);

export class QuoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuoteError';
  }
}

/** Quotes one argument for a POSIX shell (bash, dash, sh). */
export function shellQuote(arg: string): string {
  if (typeof arg !== 'string') throw new QuoteError(`shellQuote: expected a string, got ${typeof arg}`);
  if (arg.includes('\0')) throw new QuoteError('shellQuote: an argument cannot contain a NUL byte');
  if (arg === '') return "''";
  if (SAFE_WORD.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Builds a shell command line from an argv. argv[0] is quoted whenever it could be read as
 * something other than a command name (an assignment such as `A=b`, or a reserved word).
 */
export function buildCommand(argv: string[]): string {
  if (!Array.isArray(argv) || argv.length === 0) throw new QuoteError('buildCommand: argv must be a non-empty array');
  return argv
    .map((a, i) => {
      const q = shellQuote(a);
      if (i === 0 && q === a && (a.includes('=') || RESERVED_WORDS.has(a))) return `'${a}'`;
      return q;
    })
    .join(' ');
}
