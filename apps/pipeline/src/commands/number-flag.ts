/** Parsing numeric command-line flags: a commander argument parser that names the flag in its error. */
import { InvalidArgumentError } from 'commander';

export function parseNumber(name: string, integer: boolean) {
  return (value: string): number => {
    const ok = integer ? /^-?\d+$/.test(value) : Number.isFinite(Number(value)) && value.trim() !== '';
    if (!ok) throw new InvalidArgumentError(`${name} must be ${integer ? 'an integer' : 'a number'}, got ${value}`);
    return Number(value);
  };
}
