import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadViewerRequestFunction,
  requestTarget,
  viewerRequestEvent,
} from '../../../src/local/edge-function.js';

describe('viewerRequestEvent', () => {
  it('splits the target into uri and a CloudFront querystring, duplicates into multiValue', () => {
    const { request } = viewerRequestEvent(
      'GET',
      '/app/k?protocol=7&tag=a&tag=b&flag&empty=',
      {},
      '127.0.0.1',
    );

    expect(request.uri).toBe('/app/k');
    expect(request.querystring).toEqual({
      protocol: { value: '7' },
      tag: { value: 'a', multiValue: [{ value: 'a' }, { value: 'b' }] },
      flag: { value: '' },
      empty: { value: '' },
    });
  });

  it('keeps header names lowercase as Node gives them, and moves cookies to their own object', () => {
    const { request, viewer } = viewerRequestEvent(
      'GET',
      '/',
      { host: '127.0.0.1:6001', cookie: 'a=1; b=2', 'x-many': ['1', '2'] },
      '10.0.0.1',
    );

    expect(request.headers).toEqual({
      host: { value: '127.0.0.1:6001' },
      'x-many': { value: '1', multiValue: [{ value: '1' }, { value: '2' }] },
    });
    expect(request.cookies).toEqual({ a: { value: '1' }, b: { value: '2' } });
    expect(viewer.ip).toBe('10.0.0.1');
  });

  it('treats __proto__ as an ordinary parameter name', () => {
    const { request } = viewerRequestEvent('GET', '/?__proto__=x', {}, '127.0.0.1');

    expect(Object.entries(request.querystring)).toEqual([['__proto__', { value: 'x' }]]);
    expect(Object.getPrototypeOf(request.querystring)).toBeNull();
  });
});

describe('requestTarget', () => {
  it('rebuilds the target with every value, percent-encoding untouched', () => {
    const { request } = viewerRequestEvent('GET', '/x?a=1&b=%20&a=2', {}, '127.0.0.1');

    expect(requestTarget(request)).toBe('/x?a=1&a=2&b=%20');
  });

  it('leaves out the question mark when there is no query', () => {
    expect(requestTarget(viewerRequestEvent('GET', '/', {}, '127.0.0.1').request)).toBe('/');
  });
});

describe('loadViewerRequestFunction', () => {
  function functionFile(source: string): string {
    const file = join(mkdtempSync(join(tmpdir(), 'edge-')), 'function.js');
    writeFileSync(file, source);
    return file;
  }

  it('runs the file without require or process, as at the edge', () => {
    const usesRequire = functionFile(
      "const url = require('node:url');\nfunction handler(e) { return e.request; }",
    );
    const usesProcess = functionFile('function handler(e) { return process.env.X; }');

    expect(() => loadViewerRequestFunction(usesRequire)).toThrow(/require is not defined/);
    const handler = loadViewerRequestFunction(usesProcess);
    expect(() => handler(viewerRequestEvent('GET', '/', {}, '127.0.0.1'))).toThrow(/process is not defined/);
  });

  it('refuses a file that defines no handler', () => {
    expect(() => loadViewerRequestFunction(functionFile('function main(e) { return e; }'))).toThrow(
      /does not define function handler/,
    );
  });
});
