// Proves src/client/pages.ts pagesInOrder, the order in which a GetPages stream hands out pages
// whose copies from a shared arena run on libuv's pool (promises) beside pages completed at once:
// pages come out in stream order whatever order their copies end in; at most `ahead` copies wait
// while further messages are read; a copy that ends before the next message arrives is handed out
// without waiting for that message (the member may be reading it from disk); a failed copy is
// thrown in its page's place, and copies still running when the consumer stops, or when a copy
// fails, have ended before control comes back to the consumer. Synthetic messages and copies: the
// function orders promises and touches nothing else (the real copies are covered by
// test/native/copy-crc32c.test.ts and test/rpc/shared-memory.test.ts).
import t from 'tap';
import { pagesInOrder, type Page } from '../../src/client/pages.js';

function page(n: number): Page {
  return { meta: { key: new Uint8Array([n]) } as Page['meta'], data: new Uint8Array([n]) };
}

/** A copy that ends when `finish()` (or `fail()`) is called. */
function copy(n: number): { promise: Promise<Page>; finish(): void; fail(): void; settled: boolean } {
  let resolve!: (p: Page) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<Page>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const c = {
    promise,
    settled: false,
    finish: () => {
      c.settled = true;
      resolve(page(n));
    },
    fail: () => {
      c.settled = true;
      reject(new Error(`copy ${n} failed`));
    },
  };
  return c;
}

/** Messages 0..count-1; message i is held back until `release(i)` when it is in `held`. */
function stream(count: number, held: number[] = []): { iterator: AsyncIterator<number>; release(i: number): void; asked: () => number } {
  const gates = new Map(
    held.map((i) => {
      let resolve!: () => void;
      const promise = new Promise<void>((res) => (resolve = res));
      return [i, { promise, resolve }] as const;
    }),
  );
  let next = 0;
  return {
    iterator: {
      async next(): Promise<IteratorResult<number>> {
        const i = next++;
        if (i >= count) return { done: true, value: undefined };
        await gates.get(i)?.promise;
        return { done: false, value: i };
      },
    },
    release: (i) => gates.get(i)!.resolve(),
    asked: () => next,
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('pages come out in stream order, whatever order the copies end in', async (t) => {
  const copies = [0, 1, 2, 3, 4].map(copy);
  const { iterator } = stream(5);
  // Pages 1 and 3 are completed at once; 0, 2 and 4 are copies.
  const push = (i: number): Page | Promise<Page> => (i % 2 === 1 ? page(i) : copies[i]!.promise);
  const got: number[] = [];
  const reading = (async () => {
    for await (const p of pagesInOrder(iterator, push, 4)) got.push(p.data[0]!);
  })();
  copies[4]!.finish();
  copies[2]!.finish();
  await tick();
  t.same(got, [], 'nothing before page 0');
  copies[0]!.finish();
  await reading;
  t.same(got, [0, 1, 2, 3, 4]);
});

t.test('at most `ahead` copies wait while further messages are read', async (t) => {
  const copies = [0, 1, 2, 3, 4, 5].map(copy);
  const pushed: number[] = [];
  const { iterator } = stream(6);
  const got: number[] = [];
  const reading = (async () => {
    for await (const p of pagesInOrder(iterator, (i) => (pushed.push(i), copies[i]!.promise), 2)) got.push(p.data[0]!);
  })();
  for (let i = 0; i < 5; i++) await tick();
  t.same(pushed, [0, 1, 2], 'two copies waiting, and the third pushed: then it waits for page 0');
  copies.forEach((c) => c.finish());
  await reading;
  t.same(got, [0, 1, 2, 3, 4, 5]);
});

t.test('a copy that ends before the next message arrives is handed out at once', async (t) => {
  const first = copy(0);
  const { iterator, release } = stream(2, [1]);
  const got: number[] = [];
  const reading = (async () => {
    for await (const p of pagesInOrder(iterator, (i) => (i === 0 ? first.promise : page(i)), 4)) got.push(p.data[0]!);
  })();
  await tick();
  first.finish();
  for (let i = 0; i < 5; i++) await tick();
  t.same(got, [0], 'page 0 while message 1 is still on its way');
  release(1);
  await reading;
  t.same(got, [0, 1]);
});

t.test('a failed copy is thrown in its place, after the copies still running have ended', async (t) => {
  const copies = [0, 1, 2].map(copy);
  const { iterator } = stream(3);
  const got: number[] = [];
  const reading = (async () => {
    for await (const p of pagesInOrder(iterator, (i) => copies[i]!.promise, 4)) got.push(p.data[0]!);
  })();
  let failure: unknown;
  const outcome = reading.catch((error: unknown) => {
    failure = error;
    return copies[2]!.settled;
  });
  for (let i = 0; i < 5; i++) await tick();
  copies[0]!.finish();
  copies[1]!.fail();
  for (let i = 0; i < 5; i++) await tick();
  t.equal(failure, undefined, 'not before copy 2, still running, has ended');
  copies[2]!.finish();
  t.equal(await outcome, true, 'copy 2 had ended when the failure came out');
  t.match(failure, { message: 'copy 1 failed' });
  t.same(got, [0], 'the pages before it were handed out');
});

t.test('a consumer that stops early gets control back once the running copies have ended', async (t) => {
  const copies = [0, 1, 2].map(copy);
  const { iterator, asked } = stream(3);
  const pages = pagesInOrder(iterator, (i) => copies[i]!.promise, 4);
  const firstPage = pages.next();
  for (let i = 0; i < 5; i++) await tick();
  copies[0]!.finish();
  t.equal((await firstPage).value?.data[0], 0);
  t.equal(asked(), 4, 'every message was read meanwhile (copies 1 and 2 running)');
  let stopped = false;
  const stopping = pages.return(undefined).then(() => (stopped = true));
  for (let i = 0; i < 5; i++) await tick();
  t.equal(stopped, false, 'return() waits for copies 1 and 2');
  copies[1]!.finish();
  copies[2]!.fail();
  await stopping;
  t.ok(copies.every((c) => c.settled), 'and comes back once they have ended (a failure no one asked for is not thrown)');
});
