/**
 * The e2e tests' second barrier behind the app's own egress guard: every request of the browser
 * context (page and workers) that is not the app's origin, blob: or data: is recorded and cut off.
 * Tests assert the returned list stays empty.
 */
import type { BrowserContext } from 'playwright-core';

/** Watches and blocks `context`'s requests off `appUrl`; returns the (live) list of those seen. */
export async function blockForeignRequests(context: BrowserContext, appUrl: string): Promise<string[]> {
  const local = (u: string) => u.startsWith(`${appUrl}/`) || u.startsWith('blob:') || u.startsWith('data:');
  const foreign: string[] = [];
  context.on('request', (r) => {
    if (!local(r.url())) foreign.push(r.url());
  });
  await context.route(
    (u) => !local(u.href),
    (route) => {
      foreign.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  return foreign;
}
