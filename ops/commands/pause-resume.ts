/** `ops pause|resume <consumer>`: switch the consumer's event source mapping off or on (UpdateEventSourceMapping Enabled). */
import { findStreamMappings, setMappingEnabled } from '../aws/event-source-mappings';
import { createContext, resolveConsumer } from '../context';
import { UsageError } from '../io';
import { defineCommand, type Command } from './command';

const OPTIONS = { yes: { type: 'boolean', short: 'y' } } as const;

function help(verb: 'pause' | 'resume'): string {
  const what =
    verb === 'pause'
      ? `Disables the consumer's event source mapping (UpdateEventSourceMapping Enabled=false): Lambda stops
reading the stream and keeps its checkpoint. Records keep arriving and age: resume before they reach
the stream's retention or the mapping's MaximumRecordAgeInSeconds, or they are lost / sent to on-failure.`
      : `Enables the consumer's event source mapping again (UpdateEventSourceMapping Enabled=true): Lambda
resumes from its checkpoint.`;
  return `Usage: ops ${verb} <consumer> [--yes]

${what}
Asks for confirmation; without a terminal it refuses unless --yes is given.

Options:
  -y, --yes   do not ask

Examples:
  npm run ops -- ${verb} order-review --stage prod
  npm run ops -- ${verb} order-review --stage prod --yes`;
}

function command(verb: 'pause' | 'resume'): Command {
  const enabled = verb === 'resume';
  return defineCommand({
    name: verb,
    summary: verb === 'pause' ? "disable a consumer's event source mapping (with confirmation)" : "enable a consumer's event source mapping again",
    help: help(verb),
    options: OPTIONS,
    async run({ values, positionals }, env) {
      if (positionals.length !== 1) throw new UsageError(`name exactly one consumer, got ${positionals.length}`);
      if (values.local) {
        throw new UsageError(`the local runner has no event source mapping API to ${verb}; stop the runner (Ctrl-C drains gracefully) and start it again`);
      }
      const ctx = await createContext(values, env);
      const consumer = resolveConsumer(ctx, positionals[0]);
      const mappings = await findStreamMappings(ctx.clients.lambda, consumer.functionName, consumer.streamName);
      if (mappings.length === 0) {
        env.io.err(`no event source mapping of ${consumer.functionName} reads stream ${consumer.streamName} (stage ${ctx.stage}, ${ctx.region})`);
        return 1;
      }
      const describe = mappings.map((m) => `${m.UUID} (${m.State})`).join(', ');
      if (!values.yes) {
        if (!env.io.interactive) {
          throw new UsageError(`refusing to ${verb} ${consumer.functionName} without confirmation: no terminal to ask on; pass --yes`);
        }
        const ok = await env.io.confirm(`${verb} ${consumer.functionName} in stage ${ctx.stage} (${ctx.region}): mapping ${describe}?`);
        if (!ok) {
          env.io.err('nothing changed');
          return 1;
        }
      }
      for (const mapping of mappings) {
        const out = await setMappingEnabled(ctx.clients.lambda, mapping.UUID!, enabled);
        // The change is asynchronous: the mapping goes Disabling/Enabling, then Disabled/Enabled.
        env.io.out(`${consumer.functionName} mapping ${mapping.UUID}: ${mapping.State} -> ${out.State ?? (enabled ? 'Enabling' : 'Disabling')}`);
      }
      return 0;
    },
  });
}

export const pauseCommand = command('pause');
export const resumeCommand = command('resume');
