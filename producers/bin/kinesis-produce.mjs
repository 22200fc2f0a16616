#!/usr/bin/env node
// `bin` entry of the producer CLI: runs the TypeScript source through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../cli.ts');
