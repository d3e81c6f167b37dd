/**
 * No secret in Temporal: reads the whole history, the memo and the search attributes of every
 * workflow the suite ran on the shared server, in every namespace (this file runs last) and looks for private keys,
 * the lab's BMC password and password-like fields.
 */
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

let connection: Connection;
/** One client per namespace of the server: each vitest worker ran its procedures in its own. */
let clients: Client[];
beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  const { namespaces } = await connection.workflowService.listNamespaces({ pageSize: 1000 });
  clients = namespaces
    .map((n) => n.namespaceInfo!.name!)
    .filter((n) => n !== 'temporal-system')
    .map((namespace) => new Client({ connection, namespace }));
});
afterAll(async () => {
  await connection?.close();
});

const SECRETS: [string, RegExp][] = [
  // A PEM key, its body (base64 of "openssh-key-v1"), or the whole PEM base64-encoded ("-----BEGIN").
  ['a private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----|b3BlbnNzaC1rZXktdjE|LS0tLS1CRUdJTi/],
  ['the BMC password', /lab-bmc-password/],
  ['an IPMI password in the environment', /IPMI_PASSWORD=[^$'"\s]/],
  ['a password or passphrase field', /"(password|passphrase|privateKey|secret)"\s*:/i],
];

/** Every payload of a history, decoded: that is what the Web UI shows. */
function payloadTexts(value: unknown, out: string[]) {
  if (value === null || typeof value !== 'object') return;
  if (value instanceof Uint8Array) {
    out.push(Buffer.from(value).toString('utf8'));
    return;
  }
  for (const v of Object.values(value as Record<string, unknown>)) payloadTexts(v, out);
}

describe('secrets never reach Temporal', () => {
  it('the detector finds what it looks for (a key, the password, a password field)', async () => {
    const { readFileSync } = await import('node:fs');
    const { generateKeyPair } = await import('../../lab/sshd');
    const { mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/hvflow-audit-');
    const key = await generateKeyPair(`${dir}/id`);
    const samples = [
      readFileSync(key.privateKeyPath, 'utf8'),
      Buffer.from(readFileSync(key.privateKeyPath)).toString('base64'),
      'pw lab-bmc-password',
      '{"password": "x"}',
    ];
    for (const sample of samples)
      expect(
        SECRETS.some(([, re]) => re.test(sample)),
        sample.slice(0, 40),
      ).toBe(true);
  });

  it('no history, memo or search attribute of any procedure run in this suite holds a secret', async () => {
    let count = 0;
    const found: string[] = [];
    for (const client of clients) {
      for await (const wf of client.workflow.list()) {
        // bad-*: the hostile-input corpus (test/workflow/bad-input.test.ts) sends a "password" field on
        // purpose. Temporal records any input a client sends; hvflow rejects it at once, and its CLI
        // validates before starting anything.
        if (wf.workflowId.startsWith('bad-')) continue;
        count++;
        const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
        const history = await handle.fetchHistory();
        const texts: string[] = [];
        payloadTexts(temporal.api.history.v1.History.fromObject(history as never), texts);
        texts.push(JSON.stringify(wf.memo ?? {}), JSON.stringify(wf.searchAttributes ?? {}));
        const all = texts.join('\n');
        for (const [what, re] of SECRETS) if (re.test(all)) found.push(`${wf.type} ${wf.workflowId}: ${what}`);
      }
    }
    // Run with the suite, this file comes last and reads every procedure the suite ran; alone it reads nothing.
    expect(count, 'the audit reads what the rest of the suite ran: run it with the suite').toBeGreaterThan(0);
    expect(found).toEqual([]);
  });
});
