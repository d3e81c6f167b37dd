#!/usr/bin/env -S npx tsx
/**
 * The `hvflow` command (package.json's bin): the command tree is client/program.ts; the exit code
 * says what happened (client/errors.ts, `hvflow --help`).
 */
import { main } from './program';

void main();
