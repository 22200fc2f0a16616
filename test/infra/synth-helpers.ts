/**
 * Test helpers for the infra suite: a temporary stand-in bundle folder (for variants of the definition
 * whose functions are not the reference ones; the reference stages synthesize on the real bundles of
 * test/support/deployed-bundles.ts), synthesis of a stage through cdktf's Testing helpers, and
 * small readers over the synthesized Terraform JSON.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Testing } from 'cdktf';
import { expect } from 'vitest';
import type { PipelineDefinition } from '../../pipeline';
import { deployedFunctions } from '../../infra/bundle';
import { PipelineStack, stackName } from '../../infra/pipeline-stack';
import { loadStageConfig, type StageConfig } from '../../infra/stage-config';

export const STAGES_DIR = resolve(import.meta.dirname, '../../stages');
export const STAGE_NAMES = ['dev', 'staging', 'prod'] as const;

export function stageConfig(stage: string): StageConfig {
  return loadStageConfig(join(STAGES_DIR, `${stage}.json`));
}

/** A bundle folder with a stand-in `index.mjs` per function of the definition. */
export function fakeBundleDir(definition: PipelineDefinition): string {
  const dir = mkdtempSync(join(tmpdir(), 'infra-bundles-'));
  for (const { name } of deployedFunctions(definition)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'index.mjs'), `export const handler = async () => ({ function: ${JSON.stringify(name)} });\n`);
  }
  return dir;
}

export type Block = Record<string, unknown>;

export interface Synthesized {
  stack: PipelineStack;
  /** Testing.synth output (the stack's Terraform JSON, metadata removed). */
  json: string;
  tf: { resource: Record<string, Record<string, Block>>; data?: Record<string, Record<string, Block>>; provider: Record<string, Block[]>; terraform: Block; output: Record<string, Block> };
}

export function synthStage(definition: PipelineDefinition, stage: StageConfig, bundleDir = fakeBundleDir(definition)): Synthesized {
  const app = Testing.app();
  const stack = new PipelineStack(app, stackName(definition, stage.stage), { definition, stage, bundleDir });
  const json = Testing.synth(stack, true);
  return { stack, json, tf: JSON.parse(json) as Synthesized['tf'] };
}

/** Every resource block of a type, by logical id. */
export function resources(s: Synthesized, type: string): Block[] {
  return Object.values(s.tf.resource[type] ?? {});
}

/** cdktf's matcher, with the candidates printed when it fails. */
export function expectResource(s: Synthesized, type: string, properties: Record<string, unknown>): void {
  const ok = Testing.toHaveResourceWithProperties(s.json, type, properties);
  if (!ok) {
    expect.fail(`no ${type} with ${JSON.stringify(properties)}; candidates:\n${JSON.stringify(resources(s, type), null, 1).slice(0, 4000)}`);
  }
}

/** The single resource of a type whose property `key` equals `value`. */
export function findResource(s: Synthesized, type: string, key: string, value: unknown): Block {
  const found = resources(s, type).filter((r) => r[key] === value);
  expect(found, `${type} with ${key}=${JSON.stringify(value)}`).toHaveLength(1);
  return found[0]!;
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export function statements(policyJson: unknown): Statement[] {
  expect(typeof policyJson).toBe('string');
  const doc = JSON.parse(policyJson as string) as { Statement: Statement[] };
  return doc.Statement;
}

export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
