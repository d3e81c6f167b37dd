import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildCommand, QuoteError, shellQuote } from '../../activities/quote';

/** Runs `printf '%s\0' <cmd-args>` through a real bash and returns the argv bash saw. */
function bashArgv(cmdline: string, shell = 'bash'): string[] {
  const out = execFileSync(shell, ['-c', `printf '%s\\0' ${cmdline}`], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  return out.split('\0').slice(0, -1);
}

const NASTY = [
  'top1;reboot',
  '$(id)',
  '`id`',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion the quoting must neutralise
  '${HOME}',
  "it's",
  "''",
  '"double"',
  'a\nb',
  'line1\n;reboot\n',
  '\\',
  "\\'",
  'a b  c',
  '\t',
  '*',
  '?',
  '[a-z]',
  '~',
  '~root',
  '!',
  '!!',
  '#comment',
  'a#b',
  '&',
  '|',
  '>out',
  '<in',
  '$((1+1))',
  'a=b',
  '--flag=value',
  '-rf',
  '{a,b}',
  'é ü ☃',
  '%1',
  ' leading',
  'trailing ',
  '',
];

describe('shellQuote', () => {
  it('leaves safe words bare', () => {
    for (const w of ['top1', 'fleet.service', '/usr/bin/fleetctl', 'vm_1', '--weight=5', 'user@host', 'a:b', '1,2', '+x', 'x%']) {
      expect(shellQuote(w)).toBe(w);
    }
  });

  it('single-quotes everything else', () => {
    expect(shellQuote('top1;reboot')).toBe("'top1;reboot'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('$(id)')).toBe("'$(id)'");
  });

  it.each(NASTY.map((s) => [JSON.stringify(s), s]))('round-trips %s through bash -c and sh -c', (_n, s) => {
    expect(bashArgv(shellQuote(s))).toEqual([s]);
    expect(bashArgv(shellQuote(s), 'sh')).toEqual([s]);
  });

  it('round-trips all NASTY strings at once, as separate words', () => {
    expect(bashArgv(NASTY.map(shellQuote).join(' '))).toEqual(NASTY);
  });

  it('round-trips every byte 1..255 (as UTF-8 text)', () => {
    const all = Array.from({ length: 255 }, (_, i) => String.fromCharCode(i + 1)).join('');
    expect(bashArgv(shellQuote(all))).toEqual([all]);
  });

  it('refuses NUL bytes and non-strings', () => {
    expect(() => shellQuote('a\0b')).toThrow(QuoteError);
    expect(() => shellQuote(42 as unknown as string)).toThrow(QuoteError);
  });
});

describe('buildCommand', () => {
  it('builds a readable command line', () => {
    expect(buildCommand(['fleetctl', 'stop', 'vm1.service'])).toBe('fleetctl stop vm1.service');
    expect(buildCommand(['gluster', 'volume', 'heal', 'vol 1', 'info'])).toBe("gluster volume heal 'vol 1' info");
  });

  it('injection attempts stay data: nothing is executed', () => {
    const marker = `/tmp/hvflow-quote-${process.pid}-${Date.now()}`;
    const attempts = [
      `top1;touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `x\ntouch ${marker}`,
      `'; touch ${marker}; '`,
      `" ; touch ${marker}; "`,
      `&& touch ${marker}`,
      `| touch ${marker}`,
    ];
    for (const a of attempts) {
      const cmd = buildCommand(['printf', '%s\\0', a]);
      const out = execFileSync('bash', ['-c', cmd], { encoding: 'utf8' });
      expect(out).toBe(`${a}\0`);
    }
    expect(() => execFileSync('test', ['-e', marker])).toThrow(); // the file was never created
  });

  it('never lets argv[0] be an assignment or a reserved word', () => {
    expect(buildCommand(['A=b', 'x'])).toBe("'A=b' x");
    expect(buildCommand(['if', 'x'])).toBe("'if' x");
    // bash treats a quoted A=b as a command name, not an assignment
    expect(() => execFileSync('bash', ['-c', buildCommand(['PATH=/x', 'true'])], { stdio: 'pipe' })).toThrow(/not found|No such file/);
  });

  it('refuses an empty argv', () => {
    expect(() => buildCommand([])).toThrow(QuoteError);
  });
});
