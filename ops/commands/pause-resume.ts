import type { Command } from './command';
export const pauseCommand: Command = { name: 'pause', summary: 'todo', help: '', async run() { return 2; } };
export const resumeCommand: Command = { name: 'resume', summary: 'todo', help: '', async run() { return 2; } };
