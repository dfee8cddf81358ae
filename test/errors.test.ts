// Proves that the error registry (src/errors.ts) and its documentation (docs/ERRORS.md) agree:
// every registered code has a row in the table with the same gRPC status, and every row names a
// registered code. It also checks what a KvcError carries: code, status, message and cause.

import t from 'tap';
import { readFile } from 'node:fs/promises';
import { ERROR_CODES, KvcError, isKvcError, isKvcErrorCode } from '../src/errors.js';

const DOC_PATH = new URL('../docs/ERRORS.md', import.meta.url);

/** The documented codes: table rows of the form | `KVC_X` | `STATUS` | meaning | action |. */
async function documentedCodes(): Promise<Map<string, string>> {
  const text = await readFile(DOC_PATH, 'utf8');
  const rows = new Map<string, string>();
  for (const match of text.matchAll(/^\|\s*`(KVC_[A-Z0-9_]+)`\s*\|\s*`([A-Z_]+)`\s*\|(.*)\|(.*)\|\s*$/gm)) {
    rows.set(match[1]!, match[2]!);
    if (match[3]!.trim() === '' || match[4]!.trim() === '') rows.set(match[1]!, 'EMPTY CELLS');
  }
  return rows;
}

t.test('every registered code is documented with its gRPC status', async (t) => {
  const documented = await documentedCodes();
  for (const [code, definition] of Object.entries(ERROR_CODES)) {
    t.equal(documented.get(code), definition.grpcStatus, `${code} is in docs/ERRORS.md as ${definition.grpcStatus}`);
  }
});

t.test('every documented code is registered', async (t) => {
  const documented = await documentedCodes();
  t.ok(documented.size > 0, 'the table has rows');
  for (const code of documented.keys()) {
    t.ok(isKvcErrorCode(code), `${code} from docs/ERRORS.md is in src/errors.ts`);
  }
  t.equal(documented.size, Object.keys(ERROR_CODES).length, 'as many rows as codes');
});

t.test('the codes the design names are registered', async (t) => {
  const designed = [
    'KVC_INVALID_KEY', 'KVC_INVALID_NAMESPACE', 'KVC_UNKNOWN_DTYPE', 'KVC_SHAPE_MISMATCH', 'KVC_PAGE_TOO_LARGE',
    'KVC_QUOTA_EXHAUSTED', 'KVC_NOT_LEADER', 'KVC_NO_LEADER', 'KVC_DEADLINE_EXCEEDED', 'KVC_CHECKSUM_MISMATCH',
    'KVC_NOT_FOUND', 'KVC_EXISTS_DIFFERENT', 'KVC_TOO_MANY_KEYS', 'KVC_PROPOSAL_DROPPED', 'KVC_INTERNAL',
  ];
  for (const code of designed) t.ok(isKvcErrorCode(code), `${code} is registered`);
  t.notOk(isKvcErrorCode('toString'), 'inherited object keys are not codes');
  t.ok(Object.isFrozen(ERROR_CODES), 'the registry is frozen');
});

t.test('a KvcError carries its code, status, message and cause', async (t) => {
  const plain = new KvcError('KVC_NOT_FOUND');
  t.equal(plain.code, 'KVC_NOT_FOUND');
  t.equal(plain.grpcStatus, 'NOT_FOUND');
  t.equal(plain.message, ERROR_CODES.KVC_NOT_FOUND.message, 'the registry message by default');
  t.equal(plain.name, 'KvcError');
  t.equal(plain.cause, undefined, 'no cause unless given');
  t.ok(plain instanceof Error && isKvcError(plain), 'it is an Error and a KvcError');
  t.notOk(isKvcError(new Error('x')), 'a plain Error is not a KvcError');

  const cause = new Error('crc 0x1234 != 0x5678');
  const wrapped = new KvcError('KVC_CHECKSUM_MISMATCH', { detail: 'page 0a0b0c0d0e0f1011', cause });
  t.equal(wrapped.message, `${ERROR_CODES.KVC_CHECKSUM_MISMATCH.message}: page 0a0b0c0d0e0f1011`, 'detail appended');
  t.equal(wrapped.cause, cause, 'the wrapped error is the cause');
  t.equal(wrapped.grpcStatus, 'DATA_LOSS');
});
