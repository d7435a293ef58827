import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectionIdOf, socketIdOf } from '../../../src/gateway/socket-id.js';
import { isValidSocketId } from '../../../src/protocol/index.js';
import { newConnectionId } from '../../support/events.js';

/** API Gateway's ids: 16 characters of base64 ending in `=` (`Df14mfUXIAMCIyg=`, `R1kmxc2VNjMCFIA=`). */
const apiGatewayConnectionId = fc
  .uint8Array({ minLength: 11, maxLength: 11 })
  .map((bytes) => Buffer.from(bytes).toString('base64'));

describe('socket ids', () => {
  it.each([
    ['a documented API Gateway connection id', 'Df14mfUXIAMCIyg='],
    ['a captured API Gateway connection id', 'R1kmxc2VNjMCFIA='],
    ['a serverless-offline connection id (a UUID)', randomUUID()],
    ['a one-character id', 'a'],
    ['an id starting with a NUL character', '\u0000x'],
  ])('turns %s into a Pusher socket id and back', (_, connectionId) => {
    const socketId = socketIdOf(connectionId);

    expect(isValidSocketId(socketId)).toBe(true);
    expect(connectionIdOf(socketId)).toBe(connectionId);
  });

  it('maps any connection id to a valid socket id and back (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(apiGatewayConnectionId, fc.uuid(), fc.string({ minLength: 1, unit: 'binary' })),
        (connectionId) => {
          const socketId = socketIdOf(connectionId);
          return isValidSocketId(socketId) && connectionIdOf(socketId) === connectionId;
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives distinct connections distinct socket ids (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, unit: 'binary' }),
        fc.string({ minLength: 1, unit: 'binary' }),
        (a, b) => {
          fc.pre(a !== b);
          return socketIdOf(a) !== socketIdOf(b);
        },
      ),
    );
  });

  it('never starts the second digit run with 0', () => {
    fc.assert(
      fc.property(
        apiGatewayConnectionId,
        (connectionId) => !socketIdOf(connectionId).split('.')[1]!.startsWith('0'),
      ),
    );
  });

  it('is deterministic: every container derives the same socket id without storing it', () => {
    const connectionId = newConnectionId();
    expect(socketIdOf(connectionId)).toBe(socketIdOf(connectionId));
  });

  it.each([
    ['not a socket id', 'hello'],
    ['a socket id with a trailing newline', `${socketIdOf('abc')}\n`],
    ['a socket id this server never issued (Pusher docs example)', '1234.1234'],
    ['the same digits split elsewhere', moveDot(socketIdOf('Df14mfUXIAMCIyg='))],
    [
      'a number that is not UTF-8 behind the marker',
      `${BigInt('0x01ff').toString(10).slice(0, 1)}.${BigInt('0x01ff').toString(10).slice(1)}`,
    ],
    ['a non-string', 42],
  ])('maps %s to no connection', (_, socketId) => {
    expect(connectionIdOf(socketId)).toBeUndefined();
  });

  it('refuses an empty connection id', () => {
    expect(() => socketIdOf('')).toThrow(RangeError);
  });
});

function moveDot(socketId: string): string {
  const digits = socketId.replace('.', '');
  return `${digits.slice(0, 2)}.${digits.slice(2)}`;
}
