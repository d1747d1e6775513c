import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../activities/outbound';

/** The secret the workers of these tests sign with (their OUTBOUND_WEBHOOK_SECRET). */
export const TEST_WEBHOOK_SECRET = 'webhook-secret-for-tests';

/**
 * A real HTTP receiver for the outbound webhook on loopback: it checks each delivery's
 * signature (timestamp within 5 minutes, as a real receiver must), records what arrives
 * and, while `down` says so, answers 500 (a police or case-system receiver that is out).
 * A delivery whose signature does not check out is answered 401 and listed in `invalid`.
 */
export class WebhookReceiver {
  readonly deliveries: Array<{ idempotencyKey: string; body: Record<string, unknown> }> = [];
  /** Answers 500 to deliveries that match (all of them when true). */
  down: boolean | ((body: Record<string, unknown>) => boolean) = false;
  refused = 0;
  readonly invalid: string[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(secret: string = TEST_WEBHOOK_SECRET): Promise<WebhookReceiver> {
    const holder: { receiver?: WebhookReceiver } = {};
    const server = createServer((req, res) => {
      const receiver = holder.receiver;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const header = req.headers[SIGNATURE_HEADER];
        const check = verifyWebhookSignature(secret, typeof header === 'string' ? header : undefined, raw);
        if (!check.ok) {
          receiver!.invalid.push(check.reason);
          res.writeHead(401).end();
          return;
        }
        const body = JSON.parse(raw) as Record<string, unknown>;
        const down = typeof receiver!.down === 'function' ? receiver!.down(body) : receiver!.down;
        if (down) {
          receiver!.refused += 1;
          res.writeHead(500).end();
          return;
        }
        receiver!.deliveries.push({ idempotencyKey: String(req.headers['idempotency-key']), body });
        res.writeHead(204).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await new Promise((ready) => server.once('listening', ready));
    holder.receiver = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/outbound`);
    return holder.receiver;
  }

  /** Deliveries for one workflow, each body once per idempotency key. */
  for(workflowId: string): Array<Record<string, unknown>> {
    return this.deliveries.filter((delivery) => delivery.body.workflowId === workflowId).map((delivery) => delivery.body);
  }

  async stop(): Promise<void> {
    await new Promise((done) => this.server.close(done));
  }
}
