/**
 * The models run here, off the page's thread, so the face landmarker can work on the next frame
 * while the models read this one (the two overlap on a multi-core CPU).
 */
// First: nothing leaves the browser from this worker either.
import '../egress-guard.ts';
import { InferenceEngine } from './inference-engine.ts';
import type { FromWorker, ToWorker } from './protocol.ts';

const scope = self as unknown as { postMessage(m: FromWorker): void; onmessage: ((e: MessageEvent<ToWorker>) => void) | null };
const post = (m: FromWorker) => scope.postMessage(m);
const engine = new InferenceEngine();

async function handle(m: ToWorker): Promise<void> {
  if (m.type === 'init') {
    try {
      const models = await engine.init(
        m.backend,
        m.entries,
        (choice) => post({ type: 'backend', choice }),
        (id, status) => post({ type: 'status', id, status }),
        m.assets,
      );
      post({ type: 'ready', models });
    } catch (error) {
      post({ type: 'fatal', message: (error as Error).message });
    }
  } else if (m.type === 'predict' || m.type === 'predict-ahead' || m.type === 'predict-rest') {
    try {
      const prediction =
        m.type === 'predict'
          ? await engine.predict(m.batches, m.features)
          : m.type === 'predict-ahead'
            ? await engine.predictAhead(m.frame, m.batches)
            : await engine.predictRest(m.frame, m.rows, m.features);
      post({ type: 'result', seq: m.seq, ...prediction });
    } catch (error) {
      post({ type: 'error', seq: m.seq, message: (error as Error).message });
    }
  } else if (m.type === 'skip') {
    engine.skip(m.hidden);
  } else {
    post({ type: 'memory', seq: m.seq, ...engine.memory() });
  }
}

// One message at a time, in order.
let queue = Promise.resolve();
scope.onmessage = (event) => {
  queue = queue.then(() => handle(event.data));
};
