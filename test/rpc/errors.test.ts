// Proves the error mapping of src/rpc/errors.ts and the guards of member-context.ts without a
// server: every registry code maps to its gRPC status with the `kvc-code` trailer; "not leader"
// and "no leader" carry `kvcache-leader` only when the leader's address is known; errors of other
// modules that carry a registry code keep it; anything else is INTERNAL/KVC_INTERNAL and logged;
// a member context without a started node answers UNAVAILABLE; call deadlines bound the waits.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { CodecError } from '../../src/codec/index.js';
import { ERROR_CODES, KvcError, type KvcErrorCode } from '../../src/errors.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, MemberContext } from '../../src/rpc/member-context.js';
import { KVC_CODE_TRAILER, LEADER_TRAILER, toServiceError } from '../../src/rpc/errors.js';

t.test('registry codes map to their gRPC status and trailer', async (t) => {
  for (const [code, definition] of Object.entries(ERROR_CODES)) {
    const mapped = toServiceError(new KvcError(code as KvcErrorCode, { detail: 'x' }));
    t.equal(mapped.code, grpc.status[definition.grpcStatus], `${code} -> ${definition.grpcStatus}`);
    t.same(mapped.metadata.get(KVC_CODE_TRAILER), [code]);
  }
  const notLeader = toServiceError(new KvcError('KVC_NOT_LEADER'), { leaderAddress: () => '10.0.0.1:7401' });
  t.same(notLeader.metadata.get(LEADER_TRAILER), ['10.0.0.1:7401'], 'the leader trailer when known');
  const unknownLeader = toServiceError(new KvcError('KVC_NO_LEADER'), { leaderAddress: () => undefined });
  t.same(unknownLeader.metadata.get(LEADER_TRAILER), [], 'none when unknown');
  const other = toServiceError(new KvcError('KVC_NOT_FOUND'), { leaderAddress: () => '10.0.0.1:7401' });
  t.same(other.metadata.get(LEADER_TRAILER), [], 'and none on other errors');
});

t.test('coded errors of other modules keep their code; others are internal and logged', async (t) => {
  const codec = toServiceError(new CodecError('bad bytes'));
  t.same(codec.metadata.get(KVC_CODE_TRAILER), ['KVC_CODEC']);
  t.equal(codec.code, grpc.status.INVALID_ARGUMENT);
  const logged: string[] = [];
  const bug = toServiceError(new TypeError('oops'), { log: (line) => logged.push(line), what: 'Lookup' });
  t.equal(bug.code, grpc.status.INTERNAL);
  t.same(bug.metadata.get(KVC_CODE_TRAILER), ['KVC_INTERNAL']);
  t.match(logged[0], /internal error in Lookup: TypeError: oops/);
  const thrownString = toServiceError('a string', { log: (line) => logged.push(line) });
  t.match(thrownString.details, /a string/);
  t.match(logged[1], /internal error: a string/);
  const strange = Object.assign(new Error('coded'), { code: 'NOT_A_KVC_CODE' });
  t.same(toServiceError(strange).metadata.get(KVC_CODE_TRAILER), ['KVC_INTERNAL'], 'an unknown code is not trusted');
});

t.test('a member context before its node started', async (t) => {
  const ctx = new MemberContext({ id: 1, address: () => 'self:1', addressOf: () => undefined, log: () => undefined, config: () => ({}) });
  t.throws(() => ctx.requireNode(), { code: 'KVC_NO_LEADER', message: /starting/ });
  t.throws(() => ctx.requireLeader(), { code: 'KVC_NO_LEADER' });
  t.equal(ctx.leaderAddress(), undefined);
  t.equal(ctx.addressOf(1), 'self:1', 'its own address');
  t.equal(ctx.addressOf(2), undefined);
  t.equal(ctx.timeoutMs({ getDeadline: () => Infinity }), DEFAULT_REQUEST_TIMEOUT_MS, 'no deadline: the default wait');
  const soon = ctx.timeoutMs({ getDeadline: () => new Date(Date.now() + 500) });
  t.ok(soon <= 500 && soon > 300, `a deadline bounds the wait (${soon} ms)`);
  t.equal(ctx.timeoutMs({ getDeadline: () => Date.now() - 1000 }), 1, 'a passed deadline still waits at least 1 ms');
});
