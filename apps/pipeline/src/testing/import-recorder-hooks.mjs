// Module hooks (node:module register) that append the URL of every module resolved,
// one per line, to the file named by DDINIT_RECORD_IMPORTS. Used by record-imports.ts.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (process.env.DDINIT_RECORD_IMPORTS) appendFileSync(process.env.DDINIT_RECORD_IMPORTS, `${result.url}\n`);
  return result;
}
