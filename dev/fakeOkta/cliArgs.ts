/**
 * Parses `--name value` and bare `--flag` (= "true") arguments, as the fake's
 * CLI and the benchmark take them.
 */
export function parseFlagArgs(argv: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    if (!name.startsWith('--')) throw new Error(`Unexpected argument ${name}`);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) {
      args.set(name.slice(2), 'true');
    } else {
      args.set(name.slice(2), value);
      i++;
    }
  }
  return args;
}
