/**
 * Runs in each vitest worker before its integration files: the worker's labs take its own loopback
 * block (test/helpers/worker-slot.ts); the lab and every process it starts read HVFLOW_LAB_NET.
 */
import { inject } from 'vitest';
import { labNetFor, poolId } from './helpers/worker-slot';

process.env.HVFLOW_LAB_NET = labNetFor(poolId(), inject('firstLabNet'));
