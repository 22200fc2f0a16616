import type { Command } from './command';
export const statusCommand: Command = { name: 'status', summary: 'todo', help: '', async run() { return 2; } };
