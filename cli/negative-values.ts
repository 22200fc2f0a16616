/**
 * node:util parseArgs reads `--rate -5` as the option `--rate` followed by an option `-5` and fails
 * with "argument is ambiguous". A person means the value -5: join `--name -<digit>...` into
 * `--name=-5` so the command's own validation answers with its rule ("--rate must be ..., got -5")
 * and its usage. (A negative number after a boolean flag is still an error: no command here takes
 * positional numbers.)
 */
export function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (/^--[^=]+$/.test(arg) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i += 1;
    } else out.push(arg);
  }
  return out;
}
