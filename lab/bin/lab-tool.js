#!/usr/bin/env node
// hvflow lab stand-in client. Every lab tool (fleetctl, gluster, systemctl, ...) is a symlink to this
// file: it sends {host, argv, cwd, env} to the lab server over HVFLOW_LAB_SOCKET and replays the
// streamed stdout / stderr / exit code. Plain JavaScript, no dependencies: it must start fast.
// biome-ignore lint/suspicious/noRedundantUseStrict: a CommonJS script (package.json has no "type": "module"), not a module
'use strict';
const net = require('node:net');
const path = require('node:path');

const tool = path.basename(process.argv[1]);
const socketPath = process.env.HVFLOW_LAB_SOCKET;
const host = process.env.HVFLOW_LAB_HOST;
if (!socketPath || !host) {
  process.stderr.write(tool + ': not running inside an hvflow lab session (HVFLOW_LAB_SOCKET / HVFLOW_LAB_HOST unset)\n');
  process.exit(127);
}
// Only what the stand-ins need from the environment (etcdctl's settings, the BMC password for -E).
const env = {};
for (const k of Object.keys(process.env)) {
  if (k.startsWith('ETCDCTL_') || k === 'IPMI_PASSWORD' || k === 'IPMITOOL_PASSWORD') env[k] = process.env[k];
}

let exitCode;
let buffer = '';
// The lab server's accept queue can fill when hundreds of hosts run a tool at the same instant
// (connect EAGAIN on a unix socket): the real tool has no such limit, so wait and connect again.
const retryUntil = Date.now() + 10000;
function connect() {
  const sock = net.createConnection(socketPath);
  let connected = false;
  sock.setEncoding('utf8');
  sock.on('connect', () => {
    connected = true;
    sock.write(JSON.stringify({ kind: 'tool', host, argv: [tool].concat(process.argv.slice(2)), cwd: process.cwd(), env }) + '\n');
  });
  sock.on('data', (chunk) => {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const frame = JSON.parse(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
      if (frame.o !== undefined) process.stdout.write(frame.o);
      if (frame.e !== undefined) process.stderr.write(frame.e);
      if (frame.x !== undefined) {
        exitCode = frame.x;
        sock.end();
      }
    }
  });
  sock.on('error', (e) => {
    if (!connected && e.code === 'EAGAIN' && Date.now() < retryUntil) {
      sock.removeAllListeners('close');
      setTimeout(connect, 20 + Math.floor(Math.random() * 80));
      return;
    }
    process.stderr.write(tool + ': lab server unreachable: ' + e.message + '\n');
    process.exitCode = 255;
  });
  sock.on('close', () => {
    if (exitCode === undefined) {
      if (!process.exitCode) process.stderr.write(tool + ': lab server closed the connection\n');
      process.exitCode = process.exitCode || 255;
    } else process.exitCode = exitCode;
  });
}
connect();
