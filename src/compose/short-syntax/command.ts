// `command: npm run dev -- --port 3000` to words, the way a POSIX shell would split it
// (quotes and backslashes), without expanding variables: interpolation already ran.

import { failed, parsed, type Parsed } from './parsed.js';

export function splitCommand(input: string): Parsed<string[]> {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < input.length && '"\\$`\n'.includes(input[i + 1]!)) word += input[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < input.length) {
      word += input[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return failed(`"${input}" has an unterminated ${quote === '"' ? 'double' : 'single'} quote: close it or write the command as a list`);
  if (inWord) words.push(word);
  return parsed(words);
}
