// What the browser scripts are given by tests/browser/test_console.cpp: environment variables,
// each named in the script's opening comment. A missing one ends the script with exit code 2.
import path from 'node:path';

export function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${path.basename(process.argv[1])}: ${name} is not set (see the comment at the top)`);
    process.exit(2);
  }
  return value;
}
