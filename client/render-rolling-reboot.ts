/** Readable text of a rolling reboot's plan and result (client/render.ts has the shared helpers). */
import type { RollingRebootResult } from '../workflows/rolling-reboot-types';
import { bold, dim, gatesLines, header, indent, red, skippedLines, table, yellow } from './render';

export function renderRollingRebootPlan(result: unknown): string[] {
  const r = result as RollingRebootResult;
  const p = r.plan;
  const unit = p.capacityUnit === 'MiB' ? ' MiB' : '';
  const out = [header('rolling reboot of', p.order.join(', '), r.dryRun), ''];
  out.push(
    `${bold('Order')}: ${p.order.join(' → ')}${p.master ? dim(` (pool master ${p.master} first)`) : ''}`,
    `${bold('Migrations')}: ${p.totalMigrations}, ${p.movedTwice.length} VM(s) moved twice${p.threads ? `, ${p.threads} at a time` : ''}; about ${p.expectedMinutes} min in all`,
    `${bold('Approval')}: ${p.approval === 'each-host' ? 'the plan, then each host before it is emptied' : 'the plan, once'}`,
  );
  if (p.prepare.length) out.push(`${bold('Before the first host')}: ${p.prepare.join('; ')}`);
  if (p.restore.length) out.push(`${bold('After the last (also on abort or failure)')}: ${p.restore.join('; ')}`);
  if (p.windows)
    out.push(
      `${bold('Windows')}: ${p.windows.spec.join('; ')}${p.windows.next.length ? dim(` (next: ${p.windows.next[0]!.start} to ${p.windows.next[0]!.end})`) : red(' (none in the next 14 days)')}`,
    );
  out.push('');
  for (const h of p.hosts) {
    out.push(bold(`${h.host}`) + dim(` — ${h.migrations.length} VM(s) leave, about ${h.expectedMinutes} min`));
    if (h.migrations.length)
      out.push(
        ...indent(
          table(
            ['VM', 'TO', `SIZE${unit}`, ''],
            h.migrations.map((m) => [m.vm, m.to, m.weight, m.final ? '' : yellow('moves again')]),
            [2],
          ),
        ),
      );
    for (const s of h.staying) out.push(...indent([yellow(`${s.vm} stays: ${s.reason}`)]));
  }
  if (p.movedTwice.length) out.push('', bold('Moved twice'), ...indent(p.movedTwice.map((m) => `${m.vm}: ${m.why}`)));
  return out;
}

export function renderRollingRebootResult(result: unknown): string[] {
  const r = result as RollingRebootResult;
  const t = r.totals;
  const out = [
    bold(`Rolling reboot done: ${t.rebooted} host(s) rebooted${t.skipped ? `, ${t.skipped} skipped` : ''}${t.notBack ? red(`, ${t.notBack} not back`) : ''}`),
  ];
  out.push(`Migrations: ${t.migrations} (${t.movedTwice} VM(s) moved twice)`);
  out.push(
    ...indent(
      table(
        ['HOST', 'OUTCOME', 'MOVED', 'EMPTY', 'UP', 'READY'],
        r.hosts.map((h) => [h.host, h.outcome === 'rebooted' ? h.outcome : yellow(h.outcome), h.migrations.length, h.emptyAt, h.upAt, h.readyAt]),
        [2],
      ),
    ),
  );
  if (r.restored.length) out.push(`Restored: ${r.restored.join('; ')}`);
  return [...out, ...gatesLines(r.gates), ...skippedLines(r.skipped)];
}
