/** The in-page egress guard (src/app/egress-guard.ts) on a fake global scope: nothing foreign is sent. */
import { describe, expect, it } from 'vitest';
import { BLOCKED, installEgressGuard, staysLocal, type GuardedScope } from '../../../src/app/egress-guard.ts';

const location = { href: 'http://127.0.0.1:5173/index.html', origin: 'http://127.0.0.1:5173', host: '127.0.0.1:5173' };

function fakeScope() {
  const sent: string[] = [];
  const infos: string[] = [];
  class FakeXhr {
    open(_method: string, url: string | URL): void {
      sent.push(`xhr ${String(url)}`);
    }
  }
  class FakeSocket {
    static OPEN = 1;
    constructor(readonly url: string | URL) {
      sent.push(`ws ${String(url)}`);
    }
  }
  const scope = {
    location,
    fetch: (async (input: RequestInfo | URL) => {
      sent.push(`fetch ${String(input)}`);
      return new Response('ok');
    }) as typeof fetch,
    XMLHttpRequest: FakeXhr as unknown as typeof XMLHttpRequest,
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    navigator: {
      sendBeacon: (url: string | URL) => (sent.push(`beacon ${String(url)}`), true),
    },
    console: { info: (m: string) => void infos.push(m) },
  } satisfies GuardedScope;
  return { scope: scope as GuardedScope & Record<symbol, unknown>, sent, infos, FakeSocket };
}

describe('egress guard', () => {
  it('knows what stays in the browser', () => {
    for (const url of [
      '/models/index.json',
      'models/a.bin',
      'http://127.0.0.1:5173/x',
      'blob:http://127.0.0.1:5173/abc',
      'data:,x',
      'ws://127.0.0.1:5173/hmr',
    ]) {
      expect(staysLocal(url, location), url).toBe(true);
    }
    for (const url of [
      'https://odml.pa.googleapis.com/v1/log',
      'http://127.0.0.1:8080/x',
      'https://127.0.0.1:5173/x',
      '//cdn.example/x.js',
      'ws://evil.example/',
    ]) {
      expect(staysLocal(url, location), url).toBe(false);
    }
  });

  it("refuses MediaPipe's log POST and every other foreign request without sending it; own-origin requests pass", async () => {
    const { scope, sent, infos, FakeSocket } = fakeScope();
    const blocked = installEgressGuard(scope);
    // The call MediaPipe's logger makes (vision_bundle.mjs), with its API key header.
    await expect(
      scope.fetch!('https://odml.pa.googleapis.com/v1/log', {
        method: 'POST',
        headers: { 'x-goog-api-key': 'k' },
        body: new Uint8Array(3),
      }),
    ).rejects.toThrow(/fetch to https:\/\/odml\.pa\.googleapis\.com\/v1\/log refused/);
    await expect(scope.fetch!(new Request('https://example.com/a?key=secret'))).rejects.toThrow(TypeError);
    expect(() => new scope.XMLHttpRequest!().open('POST', 'https://example.com/x')).toThrow(/refused/);
    expect(scope.navigator!.sendBeacon!('https://example.com/b')).toBe(false);
    expect(() => new scope.WebSocket!('wss://example.com/s')).toThrow(/refused/);
    expect(sent).toEqual([]);
    expect(blocked).toEqual([
      'https://odml.pa.googleapis.com/v1/log',
      'https://example.com/a',
      'https://example.com/x',
      'https://example.com/b',
      'wss://example.com/s',
    ]);
    expect(scope[BLOCKED]).toBe(blocked);
    expect(infos).toEqual([
      'Emotion Lens: refused a fetch request to https://odml.pa.googleapis.com (nothing leaves this browser).',
      'Emotion Lens: refused a fetch request to https://example.com (nothing leaves this browser).',
      'Emotion Lens: refused a WebSocket request to wss://example.com (nothing leaves this browser).',
    ]);
    // Own origin still works, through the original functions.
    expect(await (await scope.fetch!('/models/index.json')).text()).toBe('ok');
    new scope.XMLHttpRequest!().open('GET', '/mediapipe/wasm/x.js');
    expect(scope.navigator!.sendBeacon!('/ping')).toBe(true);
    const socket = new scope.WebSocket!('ws://127.0.0.1:5173/');
    expect(socket).toBeInstanceOf(FakeSocket);
    expect((scope.WebSocket as unknown as { OPEN: number }).OPEN).toBe(1);
    expect(sent).toEqual(['fetch /models/index.json', 'xhr /mediapipe/wasm/x.js', 'beacon /ping', 'ws ws://127.0.0.1:5173/']);
  });

  it('installs once, and not at all without a location (Node)', async () => {
    const { scope } = fakeScope();
    const first = installEgressGuard(scope);
    const fetch1 = scope.fetch;
    expect(installEgressGuard(scope)).toBe(first);
    expect(scope.fetch).toBe(fetch1);
    const node = { fetch: globalThis.fetch } as GuardedScope & Record<symbol, unknown>;
    expect(installEgressGuard(node)).toEqual([]);
    expect(node.fetch).toBe(globalThis.fetch);
  });
});
