// Proves the address book of src/rpc/address-book.ts: configured and ConfChange addresses are
// authoritative, announced ones fill gaps only, listeners hear every change, and the book is
// saved atomically and loaded again (an unreadable file is logged and ignored, never fatal).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { AddressBook } from '../../src/rpc/address-book.js';

const root = await mkdtemp(path.join(os.tmpdir(), 'kvc-book-'));
t.teardown(() => rm(root, { recursive: true, force: true }));

t.test('set, learn, delete and listeners', async (t) => {
  const file = path.join(root, 'a.json');
  const book = await AddressBook.load(file);
  const changes: [number, string | undefined][] = [];
  book.onChange((id, address) => changes.push([id, address]));
  book.set(1, 'h1:1');
  book.set(1, 'h1:1');
  book.set(2, '');
  book.learn(1, 'evil:666');
  book.learn(3, 'h3:3');
  book.learn(4, '');
  book.delete(3);
  book.delete(99);
  t.same(changes, [[1, 'h1:1'], [3, 'h3:3'], [3, undefined]], 'only real changes are heard');
  t.equal(book.get(1), 'h1:1', 'an announced address never replaces a known one');
  t.same(book.entries(), [[1, 'h1:1']]);
  await book.flushed();
  t.same(JSON.parse(await readFile(file, 'utf8')), { 1: 'h1:1' }, 'saved');
  const again = await AddressBook.load(file);
  t.equal(again.get(1), 'h1:1', 'loaded again');
});

t.test('a damaged or unwritable book is not fatal', async (t) => {
  const file = path.join(root, 'bad.json');
  await writeFile(file, '{ not json');
  const logs: string[] = [];
  const book = await AddressBook.load(file, (line) => logs.push(line));
  t.same(book.entries(), []);
  t.match(logs[0], /unreadable/);
  await writeFile(file, JSON.stringify({ 1: 'ok:1', x: 'ignored', 2: 5, 3: '' }));
  t.same((await AddressBook.load(file)).entries(), [[1, 'ok:1']], 'only well-formed entries are taken');
  const unwritable = new AddressBook(path.join(root, 'missing-dir', 'book.json'), (line) => logs.push(line));
  unwritable.set(1, 'h:1');
  await unwritable.flushed();
  t.match(logs.at(-1), /could not save/);
  const memoryOnly = new AddressBook();
  memoryOnly.set(5, 'h:5');
  await memoryOnly.flushed();
  t.equal(memoryOnly.get(5), 'h:5', 'a book without a file works in memory');
});
